"""Import spyne so that it behaves under `-W error` on Python 3.11.

spyne 2.14 vendors an old `six` whose meta-path importer lacks `find_spec`; once installed in
sys.meta_path it makes *every* later failed import in the process emit ImportWarning. We add
the PEP 451 methods newer six versions have (same behaviour, no warning).
"""

from __future__ import annotations

import warnings
from importlib.util import spec_from_loader
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import spyne.util.six as _six
    from spyne import (
        Application,
        Array,
        ComplexModel,
        Date,
        Fault,
        Integer,
        ServiceBase,
        Unicode,
        rpc,
    )
    from spyne.protocol.soap import Soap11, Soap12
    from spyne.server.wsgi import WsgiApplication


def _find_spec(self: Any, fullname: str, path: Any = None, target: Any = None) -> Any:
    if fullname in self.known_modules:
        return spec_from_loader(fullname, self)
    return None


def _create_module(self: Any, spec: Any) -> Any:
    return self.load_module(spec.name)


def _exec_module(self: Any, module: Any) -> None:
    return None


_importer_cls = type(_six._importer)
if not hasattr(_importer_cls, "find_spec"):
    _importer_cls.find_spec = _find_spec
    _importer_cls.create_module = _create_module
    _importer_cls.exec_module = _exec_module

__all__ = [
    "Application",
    "Array",
    "ComplexModel",
    "Date",
    "Fault",
    "Integer",
    "ServiceBase",
    "Soap11",
    "Soap12",
    "Unicode",
    "WsgiApplication",
    "rpc",
]

"""marshmallow schemas of the shared-data API's request bodies and headers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

# Administrative-procedure codes (e.g. 1.001234, 2.002154.000.00.00.H12) and official ids.
HEADER_TOKEN = re.compile(r"^[A-Za-z0-9._:/\-]{1,64}$")
MAX_QUERY_BODY = 64 * 1024

# Text every upstream (XML 1.0 §2.2 Char, for SOAP) and the audit log (jsonb) can carry:
# no NUL or other C0 control but tab, newline and carriage return, no U+FFFE/U+FFFF, no
# lone surrogate. TEXT_PATTERN says so in the OpenAPI document (ECMA-262 syntax, which
# cannot name lone surrogates; JSON encoders do not produce them).
_NOT_TEXT = re.compile(r"[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
TEXT_PATTERN = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]*$"
NOT_TEXT_MESSAGE = "Must not contain NUL, control characters or non-characters."


class QueryBodySchema(Schema):
    """The body of POST /api/v1/datasets/{id}/query: {"params": {...}}."""

    class Meta:
        unknown = RAISE

    params = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        required=True,
        error_messages={"invalid": "Must be an object."},
    )


QUERY_BODY = QueryBodySchema()


def _has_unusable_text(value: Any) -> bool:
    if isinstance(value, str):
        return _NOT_TEXT.search(value) is not None
    if isinstance(value, Mapping):
        return any(_has_unusable_text(k) or _has_unusable_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unusable_text(v) for v in value)
    return False


def unusable_text(params: Mapping[str, Any]) -> dict[str, list[str]]:
    """The params (by name; "params" for a bad name) holding text no upstream can be sent."""
    errors: dict[str, list[str]] = {}
    for name, value in params.items():
        if _has_unusable_text(name):
            errors["params"] = [NOT_TEXT_MESSAGE]
        elif _has_unusable_text(value):
            errors[str(name)] = [NOT_TEXT_MESSAGE]
    return errors

"""What ``lgsp demo`` prepares around the hub: seeded data, demo services, ``demo.json``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from hub.config import Settings
from hub.db import Database


@contextmanager
def running(settings: Settings, db: Database) -> Iterator[dict[str, Any]]:
    """Seed the demo and start its side services; yield what the banner and demo.json show."""
    info: dict[str, Any] = {
        "hub": settings.issuer,
        "health": f"{settings.issuer}/readyz",
        "database_url": db.url,
        "data_dir": str(settings.data_dir.resolve()),
    }
    with ExitStack() as stack:
        del stack  # side services (ministries, agency apps) join here as they are built
        _write_demo_json(settings, info)
        yield info


def _write_demo_json(settings: Settings, info: dict[str, Any]) -> None:
    path = settings.data_dir / "demo.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh, ensure_ascii=False, indent=2)


def banner(info: dict[str, Any]) -> str:
    """The text printed when the demo is up."""
    lines = [
        "",
        "LGSP Hub demo",
        f"  hub:          {info['hub']}",
        f"  readiness:    {info['health']}",
        f"  database:     {info['database_url']}",
        f"  demo.json:    {info['data_dir']}/demo.json",
        "Press Ctrl-C to stop (the embedded PostgreSQL keeps running; `lgsp db stop` stops it).",
        "",
    ]
    return "\n".join(lines)

"""A throwaway migrated database for benchmarks (embedded server, or BENCH_PG_ADMIN_URL)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from hub import embedded, migrations
from hub.audit.writer import SharedHead
from hub.db import Database


def _admin(url: str, sql: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@contextmanager
def scratch_database() -> Iterator[str]:
    """Yield the URL of a fresh, migrated database; drop it afterwards."""
    admin = os.environ.get("BENCH_PG_ADMIN_URL")
    tmp = None
    if not admin:
        tmp = Path(tempfile.mkdtemp(prefix="lgsp-bench-"))
        url = embedded.ensure_server(tmp / "pg")
        admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    name = f"lgsp_bench_{uuid.uuid4().hex[:8]}"
    _admin(admin, f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin)._replace(path=f"/{name}"))
    db = Database(url)
    migrations.upgrade(db)
    db.close()
    try:
        yield url
    finally:
        _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        SharedHead.for_database(url).path.unlink(missing_ok=True)  # the audit head file
        if tmp is not None:
            embedded.stop_server(tmp / "pg")

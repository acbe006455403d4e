"""The embedded PostgreSQL: started on demand, shared by processes, persistent across restarts."""

import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import cli_env

LGSP = [sys.executable, "-m", "hub.cli"]


def lgsp(*args, data_dir: Path):
    r = subprocess.run(
        [*LGSP, *args], env=cli_env(None, data_dir), capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path
    subprocess.run([*LGSP, "db", "stop"], env=cli_env(None, tmp_path), timeout=60, check=False)


def test_embedded_server_is_shared_and_persists_across_restart(data_dir):
    url = lgsp("db", "url", data_dir=data_dir)
    assert f"host={data_dir.resolve() / 'pg'}" in url or "host=" in url
    # A second process reuses the running server: same URL, sees the first one's writes.
    conn = psycopg2.connect(url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (name text)")
            cur.execute("INSERT INTO kept VALUES ('Nguyễn Thị Ánh')")
    finally:
        conn.close()
    assert lgsp("db", "url", data_dir=data_dir) == url
    lgsp("db", "upgrade", data_dir=data_dir)

    assert "stopped" in lgsp("db", "stop", data_dir=data_dir)
    assert "no embedded PostgreSQL running" in lgsp("db", "stop", data_dir=data_dir)

    url_again = lgsp("db", "url", data_dir=data_dir)
    conn = psycopg2.connect(url_again)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT name FROM kept")
            assert cur.fetchone() == ("Nguyễn Thị Ánh",)
    finally:
        conn.close()
    assert "database is current" in lgsp("db", "status", data_dir=data_dir)

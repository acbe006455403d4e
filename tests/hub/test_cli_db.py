import socket
import subprocess
import sys

import pytest

from tests.conftest import cli_env

LGSP = [sys.executable, "-m", "hub.cli"]


def lgsp(*args, env, timeout=90):
    return subprocess.run([*LGSP, *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_db_url_prints_the_configured_url(db_url, tmp_path):
    r = lgsp("db", "url", env=cli_env(db_url, tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == db_url


def test_db_status_on_a_current_database(db_url, tmp_path):
    r = lgsp("db", "status", env=cli_env(db_url, tmp_path))
    assert r.returncode == 0, r.stderr
    assert "applied  0001_foundation.sql" in r.stdout
    assert "database is current" in r.stdout


def test_db_status_and_upgrade_on_an_empty_database(empty_db_url, tmp_path):
    env = cli_env(empty_db_url, tmp_path)
    before = lgsp("db", "status", "--json", env=env)
    assert before.returncode == 1
    assert '"0001_foundation.sql"' in before.stdout
    up = lgsp("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert "applying 0001_foundation.sql" in up.stderr
    after = lgsp("db", "status", env=env)
    assert after.returncode == 0
    assert "pending" not in after.stdout


def test_unreachable_database_is_one_line(tmp_path):
    r = lgsp("db", "status", env=cli_env("postgresql://u:pw@127.0.0.1:1/x", tmp_path))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1
    assert r.stderr.startswith("lgsp: The database at postgresql://u:***@127.0.0.1:1/x")
    assert "Traceback" not in r.stderr


def test_unknown_option_is_a_usage_error(tmp_path):
    r = lgsp("db", "status", "--bogus", env=cli_env(None, tmp_path))
    assert r.returncode == 2
    assert r.stderr == "lgsp: No such option '--bogus'. (see `lgsp db status --help`)\n"
    assert "Traceback" not in r.stderr


def test_serve_refuses_without_a_secret_key(db_url, tmp_path):
    r = lgsp("serve", env=cli_env(db_url, tmp_path))
    assert r.returncode == 2
    assert "LGSP_SECRET_KEY" in r.stderr


def test_serve_refuses_a_database_that_is_behind(empty_db_url, tmp_path):
    r = lgsp("serve", env=cli_env(empty_db_url, tmp_path, LGSP_SECRET_KEY="k" * 40))
    assert r.returncode == 1
    assert "run `lgsp db upgrade`" in r.stderr


def test_serve_refuses_an_occupied_port(db_url, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY="k" * 40)
        r = lgsp("serve", "--bind", f"127.0.0.1:{port}", env=env)
    assert r.returncode == 2
    assert (
        r.stderr.strip() == f"lgsp: cannot listen on 127.0.0.1:{port}: the port is already in use"
    )


@pytest.mark.parametrize("corrupt", ["file", "junk"])
def test_a_corrupted_data_directory_is_one_line(tmp_path, corrupt):
    pg = tmp_path / "pg"
    if corrupt == "file":
        pg.write_text("not a directory")
    else:
        pg.mkdir()
        (pg / "random.txt").write_text("junk")
    r = lgsp("db", "url", env=cli_env(None, tmp_path))
    assert r.returncode != 0
    assert r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr

"""`lgsp serve` end to end: the production worker answers, and logs one JSON line a request."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

from tests.conftest import cli_env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_and_writes_a_json_access_line_with_the_request_id(db_url, tmp_path):
    port = _free_port()
    env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY="k" * 40, LGSP_WORKERS="2")
    serve = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/healthz", headers={"X-Request-Id": "probe-12345678"}
                )
                with urllib.request.urlopen(request, timeout=2) as answer:
                    assert answer.status == 200
                    assert answer.headers["X-Request-Id"] == "probe-12345678"
                    break
            except OSError:
                assert serve.poll() is None, "lgsp serve exited"
                assert time.monotonic() < deadline, "lgsp serve did not answer"
                time.sleep(0.2)
    finally:
        serve.terminate()
        _, stderr = serve.communicate(timeout=60)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("logger") == "gunicorn.access"]
    assert any(
        e["request_id"] == "probe-12345678" and e["path"] == "/healthz" and e["status"] == 200
        for e in access
    ), access


def test_a_stopping_server_writes_the_queued_token_events(db_url, tmp_path):
    from hub.config import Settings
    from hub.db import Database
    from identity.oauth.clients import register_client

    port = _free_port()
    secret_key = "k" * 40
    base_url = f"http://127.0.0.1:{port}"
    db = Database(db_url)
    try:
        settings = Settings(
            database_url=db_url, data_dir=tmp_path, base_url=base_url, secret_key=secret_key
        )
        with db.transaction() as conn:
            client, secret = register_client(
                conn,
                settings=settings,
                name="Hệ thống một cửa",
                grant_types=("client_credentials",),
                scopes=("dataset:population",),
            )
        env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY=secret_key, LGSP_BASE_URL=base_url)
        serve = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--bind", f"127.0.0.1:{port}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            import requests

            deadline = time.monotonic() + 60
            with requests.Session() as http:
                while True:
                    try:
                        http.get(f"{base_url}/healthz", timeout=2)
                        break
                    except (requests.ConnectionError, requests.Timeout):
                        # Refused before gunicorn listens; a timeout while its workers
                        # boot (the master already accepts) on a busy machine.
                        assert serve.poll() is None and time.monotonic() < deadline
                        time.sleep(0.2)
                for _ in range(40):
                    answer = http.post(
                        f"{base_url}/oauth2/token",
                        data={"grant_type": "client_credentials"},
                        auth=(client.client_id, secret),
                        timeout=10,
                    )
                    assert answer.status_code == 200, answer.text
        finally:
            serve.terminate()  # graceful: each worker writes what its event writer holds
            serve.wait(60)
        with db.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM auth_events WHERE kind = 'token.issued' AND client_id = %s",
                (client.client_id,),
            )
            assert cur.fetchone()[0] == 40
    finally:
        db.close()

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

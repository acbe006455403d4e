"""The threaded gunicorn worker leaves new connections to a sibling while it is saturated."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

APP = textwrap.dedent(
    """
    import os, time

    def app(environ, start_response):
        time.sleep(0.3)  # every request keeps its thread busy for a while
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_workers(tmp_path: Path):
    (tmp_path / "pidapp.py").write_text(APP)
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            "hub.gworker.BalancedThreadWorker",
            "-w",
            "2",
            "--threads",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(tmp_path),
            "pidapp:app",
        ],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("gunicorn did not start")
            time.sleep(0.1)
    time.sleep(1.0)  # both workers up
    yield port
    proc.terminate()
    proc.wait(10)


def test_a_burst_of_keep_alive_connections_is_spread_over_the_workers(two_workers: int) -> None:
    pids: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", two_workers, timeout=20)
        for _ in range(2):  # the second request travels on the kept-alive connection
            conn.request("GET", "/")
            answer = conn.getresponse().read().decode()
            with lock:
                pids.append(answer)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    counts = Counter(pids)
    assert len(pids) == 16
    # A worker with both threads busy accepts no more: each serves a fair share.
    assert len(counts) == 2 and min(counts.values()) >= 6, counts

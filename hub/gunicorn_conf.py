"""gunicorn configuration for ``lgsp serve`` and ``lgsp demo`` (``-c python:hub.gunicorn_conf``)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from gunicorn import glogging

from hub.config import Settings
from hub.logs import REQUEST_ID_ENVIRON, JsonFormatter

_settings = Settings.from_env()

bind = [_settings.bind]
workers = _settings.workers
# Threaded workers keep HTTP connections alive and overlap waits on PostgreSQL and on
# ministries; they leave new connections to a sibling while all their threads are busy
# (hub/gworker.py). LGSP_THREADS=1 gives classic sync workers.
threads = _settings.threads
worker_class = "hub.gworker.BalancedThreadWorker" if threads > 1 else "sync"
timeout = _settings.request_timeout
graceful_timeout = _settings.graceful_timeout
keepalive = 5
accesslog = "-"
errorlog = "-"
loglevel = _settings.log_level.lower()
forwarded_allow_ips = "127.0.0.1,::1"
proc_name = "lgsp-hub"
# Several hubs (demo, tests, benchmarks) may run on one machine: no shared control socket.
control_socket_disable = True


class JsonAccessLogger(glogging.Logger):
    """Every gunicorn log line as JSON on stderr; access lines carry the request id."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        # One write per line straight to stderr: this runs for every request, and the
        # logging machinery (record, handler lock, formatter) cost more than the line.
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "level": "INFO",
            "logger": "gunicorn.access",
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": int(str(resp.status).split(None, 1)[0]),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "request_id": environ.get(REQUEST_ID_ENVIRON),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        sys.stderr.write(json.dumps(entry, ensure_ascii=False) + "\n")


logger_class = JsonAccessLogger


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's metric files so gauges do not count it."""
    if _settings.metrics_dir is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

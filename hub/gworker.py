"""The gunicorn worker of ``lgsp serve``: threaded, and fair to its sibling workers.

gunicorn's threaded worker accepts every connection it can, and a kept-alive connection
stays with the worker that accepted it. Under a burst (a reverse proxy or an agency app
opening its pool of keep-alive connections at once) one worker could collect most of them
and saturate its core while the others idle. This worker stops accepting while all its
threads are busy, so new connections go to a worker with a free thread; the kernel holds
them in the listen backlog when every worker is busy.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.gthread import ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    """A gthread worker that accepts new connections only while it has a free thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = 0  # requests handed to the thread pool and not yet finished

    def _saturated(self) -> bool:
        return self.in_flight >= self.cfg.threads

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled and not self._saturated())

    def enqueue_req(self, conn: Any) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)
        if self._saturated():
            super().set_accept_enabled(False)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.in_flight -= 1
        super().finish_request(conn, fs)

"""Committed audit appends, batched: concurrent callers share one transaction (group commit).

Appending holds the chain-head lock until commit, so one commit per record would cap the
log at one fsync per record. A writer thread per process takes every entry waiting, appends
them in one transaction and wakes each caller only once the batch is durable: no caller
goes on (and no data leaves) before its record is committed.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from hub.audit import service
from hub.audit.models import AuditEntry
from hub.db import Database
from hub.errors import HubError

log = logging.getLogger(__name__)


class AuditUnavailableError(HubError):
    """The audit record could not be written, so nothing was returned."""

    status = 503
    code = "audit_unavailable"
    title = "Audit unavailable"


_Item = tuple[AuditEntry, "Future[int]"]


class AuditWriter:
    """Appends entries to the chain and returns once they are committed."""

    def __init__(
        self,
        db: Database,
        key: bytes,
        *,
        max_batch: int = 256,
        timeout: float = 10.0,
        gather_seconds: float = 0.0005,
    ):
        self.db = db
        self.gather_seconds = gather_seconds
        self.key = key
        self.max_batch = max_batch
        self.timeout = timeout
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._pid: int | None = None
        self._lock = threading.Lock()
        # The chain head as this process last wrote it (only the writer thread touches it).
        self._head: tuple[int, str] | None = None

    def append(self, entry: AuditEntry) -> int:
        """Append one entry; return its seq once committed, or raise AuditUnavailableError."""
        self._ensure_thread()
        done: Future[int] = Future()
        self._queue.put((entry, done))
        try:
            return done.result(self.timeout)
        except FutureTimeout:
            raise AuditUnavailableError("Writing the audit record timed out.") from None
        except HubError as exc:
            raise AuditUnavailableError() from exc

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                # After a fork the parent's thread does not exist here: start our own.
                self._queue = queue.Queue()
                self._head = None
                threading.Thread(target=self._run, name="audit-writer", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        last_size = 1
        while True:
            batch = [self._queue.get()]
            # Under concurrency (the last batch had company) wait a moment for the callers
            # the last commit just released: a fuller batch shares the one commit.
            deadline = time.monotonic() + (self.gather_seconds if last_size > 1 else 0.0)
            while len(batch) < self.max_batch:
                wait = deadline - time.monotonic()
                try:
                    batch.append(
                        self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
            last_size = len(batch)
            try:
                self._commit(batch)
            except HubError:
                # One bad entry must not sink the others: retry them one by one.
                for item in batch:
                    try:
                        self._commit([item])
                    except HubError as exc:
                        log.error("audit append failed: %s", exc.detail)
                        item[1].set_exception(exc)

    def _commit(self, batch: list[_Item]) -> None:
        entries = [entry for entry, _ in batch]
        try:
            with self.db.transaction() as conn:
                seqs, head = service.append_many(
                    conn, entries, key=self.key, expected_head=self._head
                )
        except BaseException:
            self._head = None  # unknown now: the next batch reads the head under its lock
            raise
        self._head = head
        for (_, done), seq in zip(batch, seqs, strict=True):
            done.set_result(seq)

"""Security events (sign-ins, failures, MFA, consent, tokens, logout) kept in the database.

Most events are written in the request's own transaction (``record``). The busiest kind,
a client_credentials token (a machine asking, nothing else written), goes to a background
writer instead (``record_soon``): it gathers such events for a few milliseconds and writes
each batch in one statement that does not wait for the disk. A crash of the process or of
PostgreSQL may lose the last fraction of a second of them; a closing pool or a stopping
worker writes what is queued first.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from typing import Any

from hub.db import Connection, Database, execute, execute_values, json_param

log = logging.getLogger("identity.events")

_INSERT = (
    "INSERT INTO auth_events (kind, account_id, client_id, session_id, ip, detail)"
    " VALUES (%(kind)s, %(account_id)s, %(client_id)s, %(session_id)s, %(ip)s, %(detail)s)"
)
# One implicit transaction on an autocommit connection: the batch commits without waiting
# for the WAL to reach the disk.
_INSERT_BATCH = (
    "SET LOCAL synchronous_commit TO OFF;"
    " INSERT INTO auth_events (kind, account_id, client_id, session_id, ip, detail) VALUES %s"
)


def record(
    conn: Connection,
    kind: str,
    *,
    account_id: str | None = None,
    client_id: str | None = None,
    session_id: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one security event (e.g. ``login.success``) in ``conn``'s transaction."""
    execute(
        conn,
        _INSERT,
        {
            "kind": kind,
            "account_id": account_id,
            "client_id": client_id,
            "session_id": session_id,
            "ip": ip,
            "detail": json_param(detail or {}),
        },
    )


def record_soon(
    db: Database,
    kind: str,
    *,
    client_id: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Queue one event for ``db``'s background writer (written within a few ms)."""
    _writer(db).add((kind, None, client_id, None, ip, json_param(detail or {})))


def flush(db: Database, timeout: float = 5.0) -> bool:
    """Wait until every event queued for ``db`` so far is written; False after ``timeout``."""
    writer = _writers.get(db)
    return writer is None or writer.flush(timeout)


class _Writer:
    """Batches of queued events, written by one daemon thread per pool and process."""

    GATHER = 0.01  # seconds a batch waits for company after its first event
    RETRY = 1.0  # seconds between attempts while the database is away
    MAX_QUEUED = 50_000  # beyond this the oldest are dropped, with a warning

    def __init__(self, db: Database) -> None:
        self.pid = os.getpid()
        self._db = db
        self._cond = threading.Condition()
        self._queue: list[tuple[Any, ...]] = []
        self._queued = 0  # events ever queued
        self._settled = 0  # events written (or dropped)
        self._closing = False
        self._thread: threading.Thread | None = None

    def add(self, row: tuple[Any, ...]) -> None:
        with self._cond:
            if len(self._queue) >= self.MAX_QUEUED:
                self._queue.pop(0)
                self._settled += 1
                log.warning("security event queue full: dropped the oldest event")
            self._queue.append(row)
            self._queued += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lgsp-events", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        with self._cond:
            target = self._queued
            return self._cond.wait_for(lambda: self._settled >= target, timeout)

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._queue) or self._closing)
                if not self._queue:
                    return  # closing, and nothing left
                closing = self._closing
            if not closing:
                time.sleep(self.GATHER)
            with self._cond:
                batch, self._queue = self._queue, []
            written = self._write(batch)
            with self._cond:
                if written or closing:
                    self._settled += len(batch)
                else:
                    self._queue[:0] = batch
                self._cond.notify_all()
            if not written and not closing:
                time.sleep(self.RETRY)

    def _write(self, batch: list[tuple[Any, ...]]) -> bool:
        try:
            with self._db.autocommit() as conn:
                execute_values(conn, _INSERT_BATCH, batch)
        except Exception as exc:  # noqa: BLE001 - a writer thread must survive any failure
            log.warning("could not write %d security events: %s", len(batch), exc)
            return False
        return True


_writers: weakref.WeakKeyDictionary[Database, _Writer] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _writer(db: Database) -> _Writer:
    writer = _writers.get(db)
    if writer is None or writer.pid != os.getpid():
        with _writers_lock:
            writer = _writers.get(db)
            if writer is None or writer.pid != os.getpid():
                writer = _Writer(db)
                _writers[db] = writer
                db.on_close(writer.close)
    return writer


@atexit.register
def _close_all() -> None:
    for writer in list(_writers.values()):
        if writer.pid == os.getpid():
            writer.close()

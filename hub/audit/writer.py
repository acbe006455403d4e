"""Committed audit appends, batched: concurrent callers share one commit (group commit).

Appending holds the chain head until commit, so one commit per record would cap the log
at one fsync per record. Here callers queue their entries; one of them at a time is the
leader and commits every entry waiting, in one statement, then wakes their callers and
hands the lead to the first caller still waiting. An idle writer costs a caller no thread
hand-off; a busy one shares each commit among everyone who arrived meanwhile. No caller
goes on (and no data leaves) before its record is committed.
"""

from __future__ import annotations

import logging
import os
import threading

from hub.audit import service
from hub.audit.models import AuditEntry
from hub.db import Database
from hub.errors import HubError, ValidationError

log = logging.getLogger(__name__)


class AuditUnavailableError(HubError):
    """The audit record could not be written, so nothing was returned."""

    status = 503
    code = "audit_unavailable"
    title = "Audit unavailable"


#: Batches that take the lock at once after the one-statement append found the head moved.
FAST_PATH_PAUSE = 16


class _Slot:
    """One caller's entry and how its append ended (or that the caller now leads)."""

    __slots__ = ("entry", "error", "lead", "seq", "wake")

    def __init__(self, entry: AuditEntry):
        self.entry = entry
        self.seq: int | None = None
        self.error: BaseException | None = None
        self.lead = False
        self.wake = threading.Event()  # set once: when done, or when promoted to lead

    def finish(self, seq: int | None = None, error: BaseException | None = None) -> None:
        self.seq, self.error = seq, error
        self.wake.set()


class AuditWriter:
    """Appends entries to the chain and returns once they are committed."""

    def __init__(self, db: Database, key: bytes, *, max_batch: int = 256, timeout: float = 10.0):
        self.db = db
        self.key = key
        self.max_batch = max_batch
        self.timeout = timeout
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()  # guards _pending and _leading
        self._pending: list[_Slot] = []
        self._leading = False
        # The chain head as this process last wrote it, and how many batches more go
        # straight to the lock since another process last moved it (only the leader).
        self._head: tuple[int, str] | None = None
        self._skip_fast = 0

    def append(self, entry: AuditEntry) -> int:
        """Append one entry; return its seq once committed, or raise AuditUnavailableError."""
        if self._pid != os.getpid():
            self._reset()  # after a fork: the parent's lock and queue are not ours
        slot = _Slot(entry)
        with self._lock:
            self._pending.append(slot)
            if not self._leading:
                self._leading = slot.lead = True
        if not slot.lead and not slot.wake.wait(self.timeout):
            with self._lock:
                if not slot.lead and slot in self._pending:
                    self._pending.remove(slot)  # so that it is never written after our error
                    raise AuditUnavailableError("Writing the audit record timed out.")
            # Promoted just now, or in a batch being written (bounded by the lock timeout).
            slot.wake.wait(self.timeout)
        if slot.lead and slot.seq is None and slot.error is None:
            self._lead()
        if slot.seq is not None:
            return slot.seq
        if slot.error is None:
            raise AuditUnavailableError("Writing the audit record timed out.")
        raise AuditUnavailableError() from slot.error

    def _lead(self) -> None:
        """Commit the waiting entries (the leader's own among them), then pass the lead on."""
        with self._lock:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
        try:
            self._write(batch)
        finally:
            with self._lock:
                if self._pending:
                    first = self._pending[0]
                    first.lead = True
                    first.wake.set()
                else:
                    self._leading = False

    def _write(self, batch: list[_Slot]) -> None:
        try:
            self._commit(batch)
        except ValidationError:
            # One bad entry (a NUL character, say) must not sink the others: one by one.
            for slot in batch:
                try:
                    self._commit([slot])
                except HubError as exc:
                    log.error("audit append failed: %s", exc.detail)
                    slot.finish(error=exc)
        except BaseException as exc:  # the whole batch failed: nobody waits for it
            log.error("audit append of %d records failed: %s", len(batch), exc)
            for slot in batch:
                slot.finish(error=exc)
            if not isinstance(exc, HubError):
                raise

    def _commit(self, batch: list[_Slot]) -> None:
        entries = [slot.entry for slot in batch]
        try:
            done = None
            if self._head is not None and not self._skip_fast:
                done = service.append_at_head(
                    self.db, entries, key=self.key, head=self._head, lock_timeout=self.timeout
                )
                if done is None:
                    # Another process writes too: go straight to the lock for a while.
                    self._skip_fast = FAST_PATH_PAUSE
            elif self._skip_fast:
                self._skip_fast -= 1
            if done is None:
                done = service.append_locked(
                    self.db, entries, key=self.key, lock_timeout=self.timeout
                )
        except BaseException:
            self._head = None  # unknown now: the next batch reads the head under its lock
            raise
        seqs, self._head = done
        for slot, seq in zip(batch, seqs, strict=True):
            slot.finish(seq)

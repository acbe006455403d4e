"""Committed audit appends, batched: concurrent callers share one commit (group commit).

Appending holds the chain head until commit, so one commit per record would cap the log
at one fsync per record. Here callers queue their entries; one of them at a time is the
leader and commits every entry waiting, in one statement, then wakes their callers and
hands the lead to the first caller still waiting. An idle writer costs a caller no thread
hand-off; a busy one shares each commit among everyone who arrived meanwhile. No caller
goes on (and no data leaves) before its record is committed.

A batch whose writer knows the chain head is hashed and committed in one round trip (the
database checks that the head has not moved; otherwise nothing is written and the batch
takes the head lock). Every writer on one machine using the same database shares what it
knows of the head through a small file (``SharedHead``): so the gunicorn workers of one
``lgsp serve``, which append in turn, each know the head the previous one left.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import mmap
import os
import re
import stat
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

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


Head = tuple[int, str]


class SharedHead:
    """The chain head as the last writer on this machine left it, in a 73-byte file mapped
    into the memory of every writer.

    A writer holds the file's exclusive lock (flock) from reading the head until it has
    written the head its batch made, so the writers of one machine append in turn, each
    from the head the previous one left, in one round trip. The lock is held for one
    append statement, which waits at most the writer's lock timeout for the database; the
    kernel drops it when its holder dies. What the file says is only a guess that saves a
    round trip: the database refuses an append whose head has moved (another machine, or
    an admin command appending in its own transaction), and the writer then takes the head
    lock in the database. So a stale, damaged or foreign file costs time, never the chain.
    """

    _FORMAT = struct.Struct("<?q64s")
    _HASH = re.compile(r"[0-9a-f]{64}")

    def __init__(self, path: Path):
        self.path = path
        self._fd = -1
        self._map: mmap.mmap | None = None
        self._pid = 0

    @classmethod
    def for_database(cls, url: str) -> SharedHead:
        """The shared head of the database at `url`, in this user's temporary directory."""
        name = hashlib.sha256(url.encode()).hexdigest()[:24]
        return cls(Path(tempfile.gettempdir()) / f"lgsp-{os.getuid()}" / f"audit-head-{name}")

    def open(self) -> mmap.mmap:
        """The file, mapped into this process's memory (created on first use)."""
        if self._map is None or self._pid != os.getpid():
            # After a fork the parent's descriptor would share the parent's lock: reopen.
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private(os.lstat(self.path.parent), "directory")
            # O_NOFOLLOW: a link planted in a shared temporary directory is refused.
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
            fd = os.open(self.path, flags, 0o600)
            try:
                st = os.fstat(fd)
                _private(st, "file")
                if st.st_size < self._FORMAT.size:
                    os.ftruncate(fd, self._FORMAT.size)  # zeros: "unknown"
                self._map = mmap.mmap(fd, self._FORMAT.size)
            except BaseException:
                os.close(fd)
                raise
            self._fd, self._pid = fd, os.getpid()
        return self._map

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the file's exclusive lock (one writer of this machine at a time)."""
        self.open()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def read(self) -> Head | None:
        """The head the last writer left (None when unknown or unreadable); call locked."""
        known, seq, raw = self._FORMAT.unpack_from(self.open())
        digest = raw.decode("latin-1")
        return (seq, digest) if known and self._HASH.fullmatch(digest) else None

    def write(self, head: Head | None) -> None:
        """Leave `head` (None: unknown) for the next writer; call while locked."""
        seq, digest = head if head is not None else (0, "")
        self._FORMAT.pack_into(self.open(), 0, head is not None, seq, digest.encode("ascii"))


def _private(st: os.stat_result, what: str) -> None:
    """Refuse a shared-head directory or file that another user owns or may write."""
    kind = stat.S_ISDIR if what == "directory" else stat.S_ISREG
    if not kind(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        raise PermissionError(f"the shared audit head {what} is not private to this user")


class _LocalHead:
    """The chain head as one writer last left it (not shared)."""

    def __init__(self) -> None:
        self._head: Head | None = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        yield  # only the writer's leader uses it

    def read(self) -> Head | None:
        return self._head

    def write(self, head: Head | None) -> None:
        self._head = head


class AuditWriter:
    """Appends entries to the chain and returns once they are committed.

    ``shared`` is where the writers of this machine share the chain head (by default a file
    per database URL; None keeps it in this writer only).
    """

    def __init__(
        self,
        db: Database,
        key: bytes,
        *,
        max_batch: int = 256,
        timeout: float = 10.0,
        shared: SharedHead | None | bool = True,
    ):
        self.db = db
        self.key = key
        self.max_batch = max_batch
        self.timeout = timeout
        self._local = _LocalHead()
        self.heads: SharedHead | _LocalHead = (
            SharedHead.for_database(db.url) if shared is True else shared or self._local
        )
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()  # guards _pending and _leading
        self._pending: list[_Slot] = []
        self._leading = False
        self._local.write(None)
        # How many batches more go straight to the lock since a writer that does not share
        # the head (another machine, an admin command) last moved it.
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
        heads = self._usable_heads()
        with heads.locked():
            head = heads.read()
            try:
                done = None
                if head is not None and not self._skip_fast:
                    done = service.append_at_head(
                        self.db, entries, key=self.key, head=head, lock_timeout=self.timeout
                    )
                    if done is None:
                        # Another writer moves the head unseen: go to the lock for a while.
                        self._skip_fast = FAST_PATH_PAUSE
                elif self._skip_fast:
                    self._skip_fast -= 1
                if done is None:
                    done = service.append_locked(
                        self.db, entries, key=self.key, lock_timeout=self.timeout
                    )
            except BaseException:
                heads.write(None)  # unknown now: the next batch reads it under the lock
                raise
            seqs, new_head = done
            heads.write(new_head)
        for slot, seq in zip(batch, seqs, strict=True):
            slot.finish(seq)

    def _usable_heads(self) -> SharedHead | _LocalHead:
        """Where the head is known: shared, unless the shared file cannot be opened."""
        if isinstance(self.heads, SharedHead):
            try:
                self.heads.open()
            except OSError as exc:
                log.warning("audit head not shared (%s): each worker's appends cost more", exc)
                self.heads = self._local
        return self.heads

"""PostgreSQL access: a lazily created per-process pool, transactions, driver-error translation.

This module is the one edge where psycopg2 errors become hub errors.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from hub.config import Settings, redact
from hub.errors import (
    ConflictError,
    DatabaseUnavailableError,
    HubError,
    ValidationError,
)

Connection = psycopg2.extensions.connection

log = logging.getLogger(__name__)

# Constraint name → message shown to the caller; domains register theirs at import time.
_CONSTRAINT_MESSAGES: dict[str, str] = {}


def register_constraint(name: str, message: str) -> None:
    """Give a named constraint a human message used when it is violated."""
    _CONSTRAINT_MESSAGES[name] = message


def translate(exc: psycopg2.Error) -> HubError:
    """Turn a driver error into a hub error (unique violations become conflicts by name)."""
    constraint = getattr(getattr(exc, "diag", None), "constraint_name", None)
    if isinstance(exc, psycopg2.errors.UniqueViolation | psycopg2.errors.ExclusionViolation):
        return ConflictError(
            _CONSTRAINT_MESSAGES.get(constraint or "", "This already exists."),
            constraint=constraint,
        )
    if isinstance(exc, psycopg2.errors.ForeignKeyViolation):
        return ConflictError(
            _CONSTRAINT_MESSAGES.get(constraint or "", "A referenced record does not exist."),
            constraint=constraint,
        )
    if isinstance(exc, psycopg2.errors.CheckViolation | psycopg2.errors.NotNullViolation):
        return ValidationError(
            _CONSTRAINT_MESSAGES.get(constraint or "", "A value is not allowed here.")
        )
    if isinstance(exc, psycopg2.errors.StringDataRightTruncation):
        return ValidationError("A value is too long.")
    if isinstance(exc, psycopg2.errors.InvalidTextRepresentation | psycopg2.errors.DataError):
        return ValidationError("A value has the wrong format.")
    if isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
        return DatabaseUnavailableError()
    return HubError("Unexpected database error.")


def translate_value_error(exc: ValueError) -> HubError | None:
    """psycopg2 refuses NUL characters with a ValueError before the query leaves: a 400."""
    if "NUL (0x00)" in str(exc):
        return ValidationError("Text must not contain NUL characters.")
    return None


class Database:
    """A pool of connections to one database URL, kept per process (safe across fork).

    Idle connections are kept open for reuse (psycopg2's own pool closes every connection
    above its minimum, which would reconnect on nearly every request).
    """

    def __init__(self, url: str, *, max_connections: int = 8, connect_timeout: int = 5):
        self.url = url
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self._pid = os.getpid()
        self._idle: list[Connection] = []
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._on_close: list[Callable[[], None]] = []

    @classmethod
    def from_settings(cls, settings: Settings, url: str) -> Database:
        """A pool sized and timed from the settings."""
        return cls(
            url,
            max_connections=settings.db_pool_max,
            connect_timeout=settings.db_connect_timeout,
        )

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    # The parent's sockets must not be used here: forget them, unclosed.
                    self._idle = []
                    self._slots = threading.BoundedSemaphore(self.max_connections)
                    self._pid = os.getpid()

    def connect(self) -> Connection:
        """A fresh connection outside the pool (the caller closes it)."""
        try:
            return psycopg2.connect(
                self.url,
                connect_timeout=self.connect_timeout,
                application_name="lgsp-hub",
                options="-c timezone=UTC",
            )
        except psycopg2.OperationalError as exc:
            raise self._unreachable(exc) from exc
        except psycopg2.Error as exc:
            raise translate(exc) from exc

    def _unreachable(self, exc: psycopg2.Error) -> DatabaseUnavailableError:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return DatabaseUnavailableError(
            f"The database at {redact(self.url)} cannot be reached: {reason}"
        )

    def acquire(self) -> Connection:
        """Borrow a connection; give it back with ``release``."""
        self._check_fork()
        if not self._slots.acquire(timeout=self.connect_timeout):
            raise DatabaseUnavailableError("All database connections are busy.")
        try:
            with self._lock:
                while self._idle:
                    conn = self._idle.pop()
                    if not conn.closed:
                        return conn
            return self.connect()
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: Connection, *, broken: bool = False) -> None:
        """Return a borrowed connection, closing it when it may be unusable."""
        if self._pid != os.getpid():
            return
        try:
            if not broken and not conn.closed:
                conn.rollback()  # no round trip unless a transaction is still open
                if conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    with self._lock:
                        self._idle.append(conn)
                    return
            conn.close()
        except psycopg2.Error:
            log.warning("discarding a database connection that failed to reset")
            conn.close()
        finally:
            self._slots.release()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A pooled connection whose transaction commits on success and rolls back on error."""
        conn = self.acquire()
        broken = False
        try:
            yield conn
            conn.commit()
        except psycopg2.Error as exc:
            broken = isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError)
            _safe_rollback(conn)
            raise translate(exc) from exc
        except ValueError as exc:
            _safe_rollback(conn)
            raise (translate_value_error(exc) or exc) from exc
        except BaseException:
            _safe_rollback(conn)
            raise
        finally:
            self.release(conn, broken=broken or bool(conn.closed))

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A pooled connection in autocommit mode: each statement commits on its own, with
        no BEGIN/COMMIT round trips (for single statements that are atomic by themselves)."""
        conn = self.acquire()
        broken = False
        try:
            conn.autocommit = True
            yield conn
        except psycopg2.Error as exc:
            broken = isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError)
            raise translate(exc) from exc
        except ValueError as exc:
            raise (translate_value_error(exc) or exc) from exc
        finally:
            broken = broken or bool(conn.closed)
            if not broken:
                conn.autocommit = False
            self.release(conn, broken=broken)

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` first when the pool is closed (e.g. to write what is buffered)."""
        self._on_close.append(callback)

    def close(self) -> None:
        """Run the close callbacks, then close every idle connection of this process."""
        callbacks, self._on_close = self._on_close, []
        for callback in callbacks:
            callback()
        with self._lock:
            idle, self._idle = self._idle, []
        if self._pid == os.getpid():
            for conn in idle:
                conn.close()


def _safe_rollback(conn: Connection) -> None:
    try:
        if not conn.closed:
            conn.rollback()
    except psycopg2.Error:
        pass


Params = Mapping[str, Any] | Sequence[Any] | None


def fetch_one(conn: Connection, sql: str, params: Params = None) -> dict[str, Any] | None:
    """Run a query and return its first row as a dict, or None."""
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
        return dict(row) if row is not None else None


# Statements prepared on each connection (server-side prepared statements last as long as
# the session; PREPARE is not undone by a rollback). A connection is used by one thread at
# a time; the lock only guards the map itself.
_PREPARED: weakref.WeakKeyDictionary[Connection, set[str]] = weakref.WeakKeyDictionary()
_PREPARED_LOCK = threading.Lock()
_NAMED_PARAM = re.compile(r"%\((\w+)\)s")


@functools.lru_cache(maxsize=256)
def _positional(sql: str) -> tuple[str, str, tuple[str, ...]]:
    """A statement name, the SQL with $n placeholders, and the parameter names in order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    text = _NAMED_PARAM.sub(number, sql)
    return "lgsp_" + hashlib.sha256(text.encode()).hexdigest()[:24], text, tuple(names)


def _execute_prepared(
    conn: Connection, cur: Any, sql: str, params: Mapping[str, Any], before: str
) -> None:
    name, text, names = _positional(sql)
    args = [params[n] for n in names]
    prepared = _PREPARED.get(conn)
    if prepared is None:
        with _PREPARED_LOCK:
            prepared = _PREPARED.setdefault(conn, set())
    if name not in prepared:
        cur.execute(f"PREPARE {name} AS {text}")  # no parameters: nothing interpolated
        prepared.add(name)
    call = f"EXECUTE {name} ({', '.join(['%s'] * len(args))})" if args else f"EXECUTE {name}"
    cur.execute(before + call, args)


def fetch_one_prepared(
    conn: Connection, sql: str, params: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Like ``fetch_one`` for fixed SQL with named parameters, but planned once per
    connection (a server-side prepared statement): for the hottest queries."""
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        _execute_prepared(conn, cur, sql, params, "")
        row = cur.fetchone()
        return dict(row) if row is not None else None


def execute_prepared(
    conn: Connection, sql: str, params: Mapping[str, Any], *, before: str = ""
) -> int:
    """Like ``execute``, prepared once per connection; ``before`` is hub-written SQL with
    no parameters sent in the same round trip (e.g. a SET LOCAL). Returns the row count."""
    with conn.cursor() as cur:
        _execute_prepared(conn, cur, sql, params, before)
        return int(cur.rowcount)


def fetch_all(conn: Connection, sql: str, params: Params = None) -> list[dict[str, Any]]:
    """Run a query and return every row as a dict."""
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql, params)
        return [dict(row) for row in cur.fetchall()]


def execute(conn: Connection, sql: str, params: Params = None) -> int:
    """Run a statement and return the number of rows it touched."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


def execute_values(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``sql``, whose one ``VALUES %s`` takes every row, as a single statement."""
    with conn.cursor() as cur:
        psycopg2.extras.execute_values(cur, sql, rows, page_size=max(1, len(rows)))


def json_param(value: Any) -> psycopg2.extras.Json:
    """Wrap a value so that it is stored as jsonb."""
    return psycopg2.extras.Json(value)


@contextmanager
def translated() -> Iterator[None]:
    """Translate driver errors raised inside the block (for code outside ``transaction``)."""
    try:
        yield
    except psycopg2.Error as exc:
        raise translate(exc) from exc
    except ValueError as exc:
        raise (translate_value_error(exc) or exc) from exc

"""PostgreSQL access: a lazily created per-process pool, transactions, driver-error translation.

This module is the one edge where psycopg2 errors become hub errors.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool

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
    """A connection pool for one database URL, created lazily in each process (fork-safe)."""

    def __init__(self, url: str, *, max_connections: int = 8, connect_timeout: int = 5):
        self.url = url
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self._pid: int | None = None
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, url: str) -> Database:
        """A pool sized and timed from the settings."""
        return cls(
            url,
            max_connections=settings.db_pool_max,
            connect_timeout=settings.db_connect_timeout,
        )

    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        pid = os.getpid()
        if self._pool is None or self._pid != pid:
            with self._lock:
                if self._pool is None or self._pid != pid:
                    # After a fork the parent's sockets must not be reused: start afresh.
                    self._pool = psycopg2.pool.ThreadedConnectionPool(
                        0,
                        self.max_connections,
                        self.url,
                        connect_timeout=self.connect_timeout,
                        application_name="lgsp-hub",
                        options="-c timezone=UTC",
                    )
                    self._slots = threading.BoundedSemaphore(self.max_connections)
                    self._pid = pid
        return self._pool

    def connect(self) -> Connection:
        """A fresh connection outside the pool (the caller closes it)."""
        try:
            return psycopg2.connect(
                self.url, connect_timeout=self.connect_timeout, options="-c timezone=UTC"
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
        """Borrow a connection from the pool; give it back with ``release``."""
        pool = self._get_pool()
        if not self._slots.acquire(timeout=self.connect_timeout):
            raise DatabaseUnavailableError("All database connections are busy.")
        try:
            conn = pool.getconn()
            if conn.closed:
                pool.putconn(conn, close=True)
                conn = pool.getconn()
            return conn
        except psycopg2.OperationalError as exc:
            self._slots.release()
            raise self._unreachable(exc) from exc
        except psycopg2.Error as exc:
            self._slots.release()
            raise translate(exc) from exc
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: Connection, *, broken: bool = False) -> None:
        """Return a borrowed connection, closing it when it may be unusable."""
        try:
            if self._pool is not None and self._pid == os.getpid():
                if not conn.closed and not broken:
                    conn.rollback()
                self._pool.putconn(conn, close=broken or bool(conn.closed))
        except psycopg2.Error:
            log.warning("discarding a database connection that failed to reset")
            if self._pool is not None:
                self._pool.putconn(conn, close=True)
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

    def close(self) -> None:
        """Close every pooled connection of this process."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.closeall()
        self._pool = None


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

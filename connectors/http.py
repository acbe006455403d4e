"""Bounded HTTP: explicit connect/read timeouts, a deadline and a size cap on every call."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from connectors.errors import (
    UpstreamInvalidResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

MAX_RESPONSE_BYTES = 2 * 1024 * 1024
CHUNK = 64 * 1024


class _Guard:
    """One upstream call's deadline and the connection it is waiting on."""

    __slots__ = ("conn", "deadline", "done", "fired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.conn: Any = None
        self.done = False
        self.fired = False


class _Watchdog:
    """Ends upstream calls at their deadlines, whatever the upstream does.

    Socket timeouts bound each recv, not a call: an upstream that trickles its headers or
    body a byte at a time would hold a worker for ever. One daemon thread per process keeps
    a heap of the calls' deadlines; at a deadline it shuts the call's socket down, so the
    blocked recv returns at once and the call fails (and is reported as a timeout). Arming
    and disarming are a heap push and a flag under one lock; finished calls leave the heap
    lazily when their deadline comes.
    """

    TICK = 0.02  # at most 50 wake-ups a second; a call may end this much after its deadline

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Guard]] = []
        self._seq = itertools.count()
        self._wake_at = math.inf
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float) -> _Guard:
        """Watch a call that must end by `deadline` (time.monotonic)."""
        guard = _Guard(deadline)
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._seq), guard))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="lgsp-upstream-watchdog", daemon=True
                )
                self._thread.start()
            elif deadline < self._wake_at:
                self._cond.notify()
        return guard

    def attach(self, guard: _Guard, conn: Any) -> None:
        """Note the connection `guard`'s call now waits on (shut at once if already late)."""
        with self._cond:
            if guard.done:
                return
            guard.conn = conn
            conn.lgsp_guard = guard
            if guard.fired:
                _shutdown(conn)

    def release(self, conn: Any) -> bool:
        """Detach a connection going back to its pool; True if a watchdog shut it down."""
        with self._cond:
            guard = conn.lgsp_guard
            conn.lgsp_guard = None
            return guard is not None and guard.fired

    def disarm(self, guard: _Guard) -> bool:
        """Stop watching a call; return True if its deadline passed and it was ended."""
        with self._cond:
            guard.done = True
            guard.conn = None
            return guard.fired

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                heap = self._heap
                while heap and heap[0][0] <= now:
                    guard = heapq.heappop(heap)[2]
                    if guard.done:
                        continue
                    guard.fired = True
                    conn = guard.conn
                    if conn is not None and conn.lgsp_guard is guard:
                        _shutdown(conn)
                self._wake_at = heap[0][0] if heap else math.inf
                self._cond.wait(max(self._wake_at - now, self.TICK) if heap else None)


def _shutdown(conn: Any) -> None:
    sock = conn.sock
    if sock is None:
        return
    with contextlib.suppress(OSError):
        # The plain socket's shutdown, also under TLS: ssl.SSLSocket.shutdown would drop
        # the SSL object another thread is reading through.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG._reset)
_CALL = threading.local()  # .guard: the guard of this thread's upstream call, if any


def _watch(conn: Any) -> None:
    guard = getattr(_CALL, "guard", None)
    if guard is not None:
        _WATCHDOG.attach(guard, conn)


class WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    """An HTTP connection the watchdog can end while it waits on the upstream."""

    lgsp_guard: _Guard | None = None

    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # a kept-alive connection: connect() is not called
            _watch(self)
        super().request(*args, **kwargs)


class WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    """An HTTPS connection the watchdog can end while it waits on the upstream."""

    lgsp_guard: _Guard | None = None

    def connect(self) -> None:
        super().connect()
        _watch(self)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:
            _watch(self)
        super().request(*args, **kwargs)


def _put_watched(pool: urllib3.HTTPConnectionPool, conn: Any) -> None:
    if conn is not None and _WATCHDOG.release(conn):
        conn.close()  # its socket was shut down: it must not be reused
    urllib3.HTTPConnectionPool._put_conn(pool, conn)


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection

    def _put_conn(self, conn: Any) -> None:
        _put_watched(self, conn)


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection

    def _put_conn(self, conn: Any) -> None:
        _put_watched(self, conn)


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class _Deadline:
    """Arm the watchdog for the current thread's upstream call; on the way out, a call the
    watchdog ended (whatever error that caused, or a cut-short answer) is a timeout."""

    __slots__ = ("guard", "name", "outer")

    def __init__(self, deadline: float, name: str) -> None:
        self.name = name
        self.outer = getattr(_CALL, "guard", None)
        self.guard = _WATCHDOG.arm(deadline)
        _CALL.guard = self.guard

    def __enter__(self) -> _Guard:
        return self.guard

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _CALL.guard = self.outer
        if not _WATCHDOG.disarm(self.guard):
            return
        if exc is not None and not isinstance(exc, Exception):
            return
        if isinstance(exc, UpstreamTimeoutError):
            return
        raise UpstreamTimeoutError(
            "The upstream service did not finish its answer in time.", upstream=self.name
        ) from exc


def make_session(pool_size: int = 20) -> requests.Session:
    """Return a session with a connection pool and no automatic retries (ours are explicit);
    its connections are the ones the deadline watchdog can end."""
    session = requests.Session()
    # Retries live in connectors.resilience, where they know about idempotency and budgets.
    adapter = _WatchedAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session


def timeouts_for(connect: float, read: float, deadline: float) -> tuple[float, float]:
    """Return (connect, read) timeouts, both cut to the time left before `deadline`."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise UpstreamTimeoutError("The time budget for this lookup is spent.")
    return (min(connect, remaining), min(read, remaining))


def bounded_request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    connect: float,
    read: float,
    deadline: float,
    max_bytes: int = MAX_RESPONSE_BYTES,
    upstream: str | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send a request and read at most `max_bytes` of the answer before `deadline`
    (a watchdog ends the call there, whatever the upstream sends)."""
    name = upstream or url
    timeout = timeouts_for(connect, read, deadline)
    with _Deadline(deadline, name):
        try:
            response = session.request(
                method,
                url,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
                **kwargs,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise UpstreamTimeoutError(
                f"Connecting to the upstream service took longer than {connect:g} s.",
                upstream=name,
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise UpstreamTimeoutError(
                "The upstream service did not answer in time.", upstream=name
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise UpstreamUnavailableError(
                "The upstream service could not be reached.", upstream=name
            ) from exc
        try:
            body = _read_capped(
                response.headers, response.raw, max_bytes=max_bytes, deadline=deadline, name=name
            )
        finally:
            response.close()
    # requests keeps the body here once consumed; set it so .content/.json() work as usual.
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]
    return response


class UpstreamAnswer:
    """An upstream's answer as zeep and the connectors read it: status, headers, body."""

    __slots__ = ("content", "encoding", "headers", "status_code")

    def __init__(self, status_code: int, headers: Any, content: bytes):
        self.status_code = status_code
        self.headers = headers  # case-insensitive
        self.content = content
        self.encoding: str | None = None  # zeep reads it; the XML declares its own


def bounded_post(
    session: requests.Session,
    url: str,
    *,
    data: bytes,
    headers: Any,
    connect: float,
    read: float,
    deadline: float,
    max_bytes: int = MAX_RESPONSE_BYTES,
    upstream: str | None = None,
) -> UpstreamAnswer:
    """POST `data` like ``bounded_request``, straight through the session's connection
    pool (same pool, TLS settings and session headers, none of requests' per-request
    machinery: half the CPU of a SOAP call's HTTP exchange)."""
    name = upstream or url
    target = requests.PreparedRequest()
    target.url = url
    try:
        adapter = session.get_adapter(url)
        pool = None
        if isinstance(adapter, HTTPAdapter) and url.lower().startswith(("http://", "https://")):
            pool = adapter.get_connection_with_tls_context(target, verify=session.verify)
        path = urllib3.util.parse_url(url).request_uri
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise _not_http(name) from exc
    if not isinstance(pool, urllib3.HTTPConnectionPool):  # file://, a WSDL's odd address
        raise _not_http(name)
    given = {header.lower() for header in headers}
    sent = {k: str(v) for k, v in session.headers.items() if k.lower() not in given}
    sent.update(headers)
    connect_s, read_s = timeouts_for(connect, read, deadline)
    with _Deadline(deadline, name):
        with _translated(name, "The upstream service could not be reached."):
            try:
                response = pool.urlopen(
                    "POST",
                    path,
                    body=data,
                    headers=sent,
                    retries=False,
                    redirect=False,
                    assert_same_host=False,
                    timeout=urllib3.Timeout(connect=connect_s, read=read_s),
                    preload_content=False,
                )
            except urllib3.exceptions.NewConnectionError as exc:  # refused, unreachable, no DNS
                raise UpstreamUnavailableError(
                    "The upstream service could not be reached.", upstream=name
                ) from exc
            except urllib3.exceptions.ConnectTimeoutError as exc:
                raise UpstreamTimeoutError(
                    f"Connecting to the upstream service took longer than {connect:g} s.",
                    upstream=name,
                ) from exc
        try:
            body = _read_capped(
                response.headers, response, max_bytes=max_bytes, deadline=deadline, name=name
            )
        except BaseException:
            response.close()  # a half-read connection must not go back to the pool
            raise
        finally:
            response.release_conn()
    return UpstreamAnswer(response.status, response.headers, body)


def _not_http(name: str) -> UpstreamUnavailableError:
    return UpstreamUnavailableError(
        "The upstream service's address is not an http:// or https:// URL.", upstream=name
    )


def _read_capped(
    headers: Any, raw: urllib3.BaseHTTPResponse, *, max_bytes: int, deadline: float, name: str
) -> bytes:
    """Read a (decoded) body of at most `max_bytes` before `deadline`."""
    with _translated(name, "The connection to the upstream service broke."):
        declared = headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise UpstreamInvalidResponseError(
                f"The upstream answer is larger than {max_bytes} bytes.", upstream=name
            )
        body = bytearray()
        for chunk in raw.stream(CHUNK, decode_content=True):
            body.extend(chunk)
            if len(body) > max_bytes:
                raise UpstreamInvalidResponseError(
                    f"The upstream answer is larger than {max_bytes} bytes.", upstream=name
                )
            if time.monotonic() > deadline:
                raise UpstreamTimeoutError(
                    "The upstream service did not finish its answer in time.", upstream=name
                )
    return bytes(body)


@contextlib.contextmanager
def _translated(name: str, broken: str) -> Iterator[None]:
    """Turn urllib3's and the socket's errors into the connectors' typed errors."""
    try:
        yield
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
        raise UpstreamTimeoutError(
            "The upstream service did not answer in time.", upstream=name
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise UpstreamUnavailableError(broken, upstream=name) from exc

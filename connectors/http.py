"""Bounded HTTP: explicit connect/read timeouts, a deadline and a size cap on every call."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import requests
import urllib3
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from connectors.errors import (
    UpstreamInvalidResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

MAX_RESPONSE_BYTES = 2 * 1024 * 1024
CHUNK = 64 * 1024


def make_session(pool_size: int = 20) -> requests.Session:
    """Return a session with a connection pool and no automatic retries (ours are explicit)."""
    session = requests.Session()
    # Retries live in connectors.resilience, where they know about idempotency and budgets.
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
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
    """Send a request and read at most `max_bytes` of the answer before `deadline`."""
    name = upstream or url
    try:
        response = session.request(
            method,
            url,
            timeout=timeouts_for(connect, read, deadline),
            stream=True,
            allow_redirects=False,
            **kwargs,
        )
    except requests.exceptions.ConnectTimeout as exc:
        raise UpstreamTimeoutError(
            f"Connecting to the upstream service took longer than {connect:g} s.", upstream=name
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

"""Bounded HTTP: explicit connect/read timeouts, a deadline and a size cap on every call."""

from __future__ import annotations

import time
from typing import Any

import requests
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
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise UpstreamInvalidResponseError(
                f"The upstream answer is larger than {max_bytes} bytes.", upstream=name
            )
        body = bytearray()
        for chunk in response.raw.stream(CHUNK, decode_content=True):
            body.extend(chunk)
            if len(body) > max_bytes:
                raise UpstreamInvalidResponseError(
                    f"The upstream answer is larger than {max_bytes} bytes.", upstream=name
                )
            if time.monotonic() > deadline:
                raise UpstreamTimeoutError(
                    "The upstream service did not finish its answer in time.", upstream=name
                )
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
        raise UpstreamTimeoutError(
            "The upstream service did not answer in time.", upstream=name
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise UpstreamUnavailableError(
            "The connection to the upstream service broke.", upstream=name
        ) from exc
    finally:
        response.close()
    # requests keeps the body here once consumed; set it so .content/.json() work as usual.
    response._content = bytes(body)
    response._content_consumed = True  # type: ignore[attr-defined]
    return response

"""JSON-over-HTTP upstreams: API key, basic or OAuth2 client-credentials auth."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from connectors.base import Context, UpstreamClient
from connectors.definition import DatasetDefinition, RestAuth, RestUpstream
from connectors.errors import (
    DefinitionError,
    UpstreamFaultError,
    UpstreamInvalidResponseError,
    UpstreamUnavailableError,
)
from connectors.http import MAX_RESPONSE_BYTES, bounded_request, make_session
from connectors.mapping import map_response, set_path

CONTEXT_HEADERS = {
    "request_id": "X-Request-Id",
    "purpose": "X-Purpose",
    "calling_agency": "X-Calling-Agency",
    "official_id": "X-Official-Id",
}


class TokenSource:
    """OAuth2 client-credentials tokens (RFC 6749 §4.4), cached until shortly before expiry."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None,
        session: requests.Session,
        connect: float,
        read: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self._client = (client_id, client_secret)
        self.scope = scope
        self._session = session
        self._connect = connect
        self._read = read
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0

    def invalidate(self) -> None:
        """Forget the cached token (after the upstream refused it)."""
        with self._lock:
            self._token = None

    def token(self, deadline: float) -> str:
        """Return a valid access token, fetching a new one when needed."""
        with self._lock:
            if self._token is not None and self._clock() < self._expires:
                return self._token
            data = {"grant_type": "client_credentials"}
            if self.scope:
                data["scope"] = self.scope
            response = bounded_request(
                self._session,
                "POST",
                self.token_url,
                data=data,
                auth=self._client,
                headers={"Accept": "application/json"},
                connect=self._connect,
                read=self._read,
                deadline=deadline,
                upstream=self.token_url,
            )
            if response.status_code >= 500:
                raise UpstreamUnavailableError(
                    f"The upstream token endpoint answered HTTP {response.status_code}.",
                    upstream=self.token_url,
                    status=response.status_code,
                )
            body = _json(response, self.token_url)
            if response.status_code != 200 or not isinstance(body, dict):
                error = body.get("error") if isinstance(body, dict) else None
                raise UpstreamFaultError(
                    upstream=self.token_url,
                    fault_code=str(error or f"http_{response.status_code}"),
                    fault_string="The upstream refused the hub's client credentials.",
                )
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise UpstreamInvalidResponseError(
                    "The upstream token answer has no access_token.", upstream=self.token_url
                )
            expires_in = body.get("expires_in", 300)
            lifetime = float(expires_in) if isinstance(expires_in, (int, float)) else 300.0
            # Renew a little early so a token never expires in flight.
            self._token = token
            self._expires = self._clock() + max(lifetime - 30, lifetime / 2)
            return token


class RestClient(UpstreamClient):
    """Calls one JSON endpoint."""

    def __init__(
        self,
        definition: DatasetDefinition,
        *,
        env: Mapping[str, str],
        session: requests.Session | None = None,
        max_bytes: int = MAX_RESPONSE_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        up = definition.upstream
        assert isinstance(up, RestUpstream)
        self.definition = definition
        self.upstream = up
        self._session = session or make_session()
        self._session.headers["Accept"] = "application/json"
        for name, value in up.headers:
            self._session.headers[name] = value
        self.max_bytes = max_bytes
        self._auth_header: tuple[str, str] | None = None
        self._basic: tuple[str, str] | None = None
        self._tokens: TokenSource | None = None
        if up.auth is not None:
            self._configure_auth(up.auth, env, clock)

    def _configure_auth(
        self, auth: RestAuth, env: Mapping[str, str], clock: Callable[[], float]
    ) -> None:
        def need(name: str | None, key: str) -> str:
            value = env.get(name or "")
            if not value:
                raise DefinitionError(
                    self.definition.source,
                    f"upstream.auth.{key}",
                    f"environment variable {name} is not set",
                )
            return value

        if auth.type == "api_key":
            self._auth_header = (auth.header, need(auth.key_env, "key_env"))
        elif auth.type == "basic":
            self._basic = (
                need(auth.username_env, "username_env"),
                need(auth.password_env, "password_env"),
            )
        else:
            assert auth.token_url is not None
            self._tokens = TokenSource(
                token_url=auth.token_url,
                client_id=need(auth.client_id_env, "client_id_env"),
                client_secret=need(auth.client_secret_env, "client_secret_env"),
                scope=auth.scope,
                session=self._session,
                connect=self.definition.timeout.connect,
                read=self.definition.timeout.read,
                clock=clock,
            )

    @property
    def source(self) -> str:
        """Return the base URL."""
        return self.upstream.base_url

    def _url(self, params: Mapping[str, Any]) -> str:
        path = self.upstream.path
        for name, value in params.items():
            # quote() with safe="" so a parameter can never add a path segment.
            path = path.replace("{" + name + "}", quote(_plain(value), safe=""))
        return self.upstream.base_url + path

    def call(
        self, params: Mapping[str, Any], ctx: Context, *, deadline: float
    ) -> dict[str, Any] | None:
        """Call the endpoint once; map the answer or raise a typed error."""
        up = self.upstream
        query = {q: _plain(params[p]) for q, p in up.query if params.get(p) is not None}
        headers = {h: ctx.get(k) for k, h in CONTEXT_HEADERS.items() if ctx.get(k) is not None}
        body: dict[str, Any] | None = None
        if up.method == "POST":
            body = {}
            for name, path in self.definition.request:
                if params.get(name) is not None:
                    set_path(body, path, _plain(params[name]))
        for attempt in (0, 1):
            request_headers = dict(headers)
            if self._auth_header is not None:
                request_headers[self._auth_header[0]] = self._auth_header[1]
            if self._tokens is not None:
                request_headers["Authorization"] = f"Bearer {self._tokens.token(deadline)}"
            response = bounded_request(
                self._session,
                up.method,
                self._url(params),
                params=query or None,
                json=body,
                headers=request_headers,
                auth=self._basic,
                connect=self.definition.timeout.connect,
                read=self.definition.timeout.read,
                deadline=deadline,
                max_bytes=self.max_bytes,
                upstream=up.base_url,
            )
            if response.status_code == 401 and self._tokens is not None and attempt == 0:
                # The token may have been revoked early: fetch a fresh one, once.
                self._tokens.invalidate()
                continue
            break
        return self._interpret(response)

    def _interpret(self, response: requests.Response) -> dict[str, Any] | None:
        status = response.status_code
        for rule in self.definition.response.not_found:
            if rule.http_status is not None and rule.http_status == status:
                return None
        if status >= 500:
            raise UpstreamUnavailableError(
                f"The upstream service answered HTTP {status}.",
                upstream=self.source,
                status=status,
            )
        if status >= 300:
            code, message = _error_body(response)
            raise UpstreamFaultError(
                upstream=self.source, fault_code=code or f"http_{status}", fault_string=message
            )
        return map_response(_json(response, self.source), self.definition.response)

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()


def _plain(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _json(response: requests.Response, upstream: str) -> Any:
    media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise UpstreamInvalidResponseError(
            f"The upstream answered {media}, not JSON.", upstream=upstream
        )
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamInvalidResponseError(
            "The upstream answer is not valid JSON.", upstream=upstream
        ) from exc


def _error_body(response: requests.Response) -> tuple[str | None, str]:
    try:
        body = response.json()
    except ValueError:
        return None, f"HTTP {response.status_code}"
    if isinstance(body, dict):
        code = body.get("code") or body.get("error")
        message = body.get("message") or body.get("error_description") or body.get("detail")
        return (
            str(code) if code is not None else None,
            str(message or f"HTTP {response.status_code}"),
        )
    return None, f"HTTP {response.status_code}"

"""Web glue: request ids, the request-scoped connection, problem responses, security headers."""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

import psycopg2
import psycopg2.extensions
from flask import Flask, Response, current_app, g, json, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.exceptions import HTTPException

from hub import metrics
from hub.db import Connection, Database, translate, translate_value_error
from hub.errors import DatabaseUnavailableError, HubError
from hub.logs import REQUEST_ID_ENVIRON, request_id_var

log = logging.getLogger("hub.http")

PROBLEM_TYPE_BASE = "https://lgsp.gov.vn/problems/"
_IDLE = psycopg2.extensions.TRANSACTION_STATUS_IDLE
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
}


_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class _ResponseHeaders:
    """WSGI middleware: the request id and the security headers on every response.

    Added to the header list the app hands to the server, each one unless the app set it:
    cheaper than going through the response object's validating header container, and it
    covers every response, error pages included.
    """

    def __init__(self, wsgi_app: Any, *, https: bool):
        self.wsgi_app = wsgi_app
        defaults = list(SECURITY_HEADERS.items()) + ([_HSTS] if https else [])
        self.defaults = [(name, name.lower(), value) for name, value in defaults]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            rid = environ.get(REQUEST_ID_ENVIRON)
            if rid and "x-request-id" not in present:
                headers.append(("X-Request-Id", rid))
            headers.extend(
                (name, value) for name, lower, value in self.defaults if lower not in present
            )
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def database() -> Database:
    """The application's database pool."""
    db: Database = current_app.extensions["lgsp.db"]
    return db


def get_conn() -> Connection:
    """The request's connection; its transaction commits when the request succeeds."""
    conn: Connection | None = g.get("conn")
    if conn is None:
        conn = database().acquire()
        if g.get("autocommit"):
            conn.autocommit = True
        g.conn = conn
    return conn


def autocommit() -> None:
    """Let each statement of this request commit by itself, with no BEGIN/COMMIT round trips.

    Only for endpoints that read, or write a single statement: there is no request
    transaction left to roll back when they fail.
    """
    g.autocommit = True
    conn: Connection | None = g.get("conn")
    if conn is not None and conn.info.transaction_status == _IDLE:
        conn.autocommit = True


def _release(conn: Connection, *, broken: bool = False) -> None:
    # The pool hands out connections in transaction mode: undo autocommit first.
    if not broken and conn.autocommit:
        try:
            conn.autocommit = False
        except psycopg2.Error:
            broken = True
    database().release(conn, broken=broken)


def request_id() -> str:
    """The id of the current request."""
    return str(g.get("request_id") or request_id_var.get() or "")


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    code: str | None = None,
    origin: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """An RFC 9457 ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (code or f"http-{status}"),
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": request_id(),
    }
    if code:
        body["code"] = code
    if origin:
        body["origin"] = origin
    body.update(extra)
    response = Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        mimetype="application/problem+json",
    )
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _hub_error(exc: HubError) -> Response:
    g.rollback = True
    if exc.status >= 500:
        log.warning("request failed: %s", exc.detail)
    headers = {}
    retry_after = exc.extra.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    extra = {k: v for k, v in exc.extra.items() if k != "retry_after"}
    return problem(
        exc.status,
        exc.title,
        exc.detail,
        code=exc.code,
        origin=exc.origin,
        headers=headers,
        **extra,
    )


def _http_error(exc: HTTPException) -> Response:
    g.rollback = True
    status = exc.code or 500
    response = problem(
        status,
        exc.name,
        exc.description or exc.name,
        code=exc.name.lower().replace(" ", "_"),
        origin="client" if status < 500 else "hub",
    )
    if status == 405 and exc.get_response().headers.get("Allow"):
        response.headers["Allow"] = exc.get_response().headers["Allow"]
    return response


def _unexpected(exc: Exception) -> Response:
    g.rollback = True
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    # Driver errors from the request's connection are translated at the hub.db edge.
    if isinstance(exc, psycopg2.Error):
        return _hub_error(translate(exc))
    if isinstance(exc, ValueError) and (translated := translate_value_error(exc)) is not None:
        return _hub_error(translated)
    log.exception("unhandled error")
    return problem(
        500,
        "Internal Server Error",
        "The hub failed to handle this request; quote the request id when reporting it.",
        code="internal_error",
        origin="hub",
    )


def _before() -> None:
    given = request.headers.get("X-Request-Id", "")
    rid = given if _REQUEST_ID.match(given) else secrets.token_hex(16)
    g.request_id = rid
    request.environ[REQUEST_ID_ENVIRON] = rid
    g.started = time.perf_counter()
    g.token = request_id_var.set(rid)


def _after(response: Response) -> Response:
    conn = g.pop("conn", None)
    if conn is not None:
        if g.get("rollback") or response.status_code >= 400:
            _release(conn)
        else:
            try:
                conn.commit()
            except Exception as exc:  # noqa: BLE001 - any commit failure must not look like success
                _release(conn, broken=True)
                log.warning("commit failed: %s", type(exc).__name__)
                err = DatabaseUnavailableError("The change could not be saved.")
                response = problem(err.status, err.title, err.detail, code=err.code, origin="hub")
            else:
                _release(conn)
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    metrics.observe(
        endpoint,
        request.method,
        response.status_code,
        time.perf_counter() - g.get("started", time.perf_counter()),
    )
    return response


def _teardown(exc: BaseException | None) -> None:
    conn = g.pop("conn", None)
    if conn is not None:
        # Only reached when the response was never built (an error escaped every handler).
        _release(conn, broken=True)
    token = g.pop("token", None)
    if token is not None:
        request_id_var.reset(token)


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, minus the serializer built for every request: API
    calls carry no session cookie, so they get an empty session straight away."""

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def install(app: Flask) -> None:
    """Wire request ids, the request connection, error handlers and headers into ``app``."""
    app.session_interface = _CookieSessions()
    app.wsgi_app = _ResponseHeaders(  # type: ignore[method-assign]
        app.wsgi_app, https=bool(app.config.get("LGSP_HTTPS"))
    )
    app.before_request(_before)
    app.after_request(_after)
    app.teardown_request(_teardown)
    app.register_error_handler(HubError, _hub_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)

"""The uniform shared-data API, its OpenAPI document and the interactive docs page."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from hub.config import Settings
from hub.datasets import errors, openapi, service
from hub.datasets.schemas import HEADER_TOKEN, MAX_QUERY_BODY, QUERY_BODY, unusable_text
from hub.datasets.service import DatasetRuntime, QueryPolicy
from hub.http import autocommit, get_conn, request_id
from identity.oauth.tokens import AccessClaims, verify_access_token

bp = Blueprint("datasets", __name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "apidocs"
ASSETS = frozenset({"apidocs.js", "apidocs.css"})
REALM = "lgsp"


def runtime() -> DatasetRuntime:
    """The application's dataset runtime (connectors, breakers, policy)."""
    rt: DatasetRuntime = current_app.extensions["lgsp.datasets"]
    return rt


def _settings() -> Settings:
    settings: Settings = current_app.extensions["lgsp.settings"]
    return settings


@bp.get("/api/v1/datasets")
def catalogue() -> Response:
    """The catalogue of enabled datasets."""
    return jsonify(datasets=service.catalogue(get_conn(), runtime=runtime()))


@bp.get("/api/v1/datasets/<dataset_id>")
def describe(dataset_id: str) -> Response:
    """A dataset's description: input and output JSON Schema, fields, example."""
    return jsonify(service.describe_dataset(get_conn(), runtime=runtime(), dataset_id=dataset_id))


@bp.post("/api/v1/datasets/<dataset_id>/query")
def query(dataset_id: str) -> Response:
    """Look a record up in the dataset's upstream (RFC 6750 bearer token, X-Purpose)."""
    started = time.perf_counter()
    # The request only reads (the audit record and the quota count commit on their own
    # connections): no BEGIN/COMMIT round trips.
    autocommit()
    conn = get_conn()
    claims = _bearer_claims(conn)
    org = claims.org.get("tax_code") if claims.org else None
    caller = service.caller_of(
        client_id=claims.client_id,
        scopes=claims.scopes,
        purpose=_header("X-Purpose"),
        official_id=_header("X-Official-Id"),
        request_id=request_id(),
        account_id=claims.account_id,
        subject=claims.sub,
        organization=org if isinstance(org, str) else None,
    )
    params = _query_params()
    answer = service.query_dataset(
        conn, runtime=runtime(), dataset_id=dataset_id, params=params, caller=caller
    )
    response = jsonify(answer.to_dict())
    response.headers["Cache-Control"] = "no-store"
    response.headers["Server-Timing"] = _server_timing(started, answer.upstream_ms)
    return response


def _server_timing(started: float, upstream_ms: float | None) -> str:
    """Where the time went (W3C Server-Timing), so that a caller can tell who was slow: the
    upstream call (with building and reading its messages) and the rest of the hub's work
    (token, grant, audit)."""
    total = (time.perf_counter() - started) * 1000
    upstream = upstream_ms or 0.0
    return (
        f'upstream;dur={upstream:.2f};desc="ministry call", '
        f'hub;dur={max(total - upstream, 0.0):.2f};desc="token, grant, audit"'
    )


@bp.get("/api/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 description of the public API, generated from the stored definitions."""
    document = openapi.document(get_conn(), runtime=runtime(), settings=_settings())
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/docs")
def docs_page() -> Response:
    """The interactive API page (local assets only)."""
    return _asset("index.html", max_age=0)


@bp.get("/api/docs/assets/<name>")
def docs_asset(name: str) -> Response:
    """A script or stylesheet of the API page."""
    if name not in ASSETS:
        raise NotFound()
    return _asset(name, max_age=300)


_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}


@lru_cache(maxsize=8)
def _asset_bytes(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


def _asset(name: str, *, max_age: int) -> Response:
    response = Response(_asset_bytes(name), mimetype=_TYPES[Path(name).suffix])
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


def _header(name: str) -> str | None:
    value = request.headers.get(name)
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not HEADER_TOKEN.match(value):
        raise errors.InvalidHeaderError(
            f"{name} must be 1 to 64 letters, digits or . _ : / -", header=name
        )
    return value


def _bearer_claims(conn: Any) -> AccessClaims:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        g.datasets_token_sent = False
        raise errors.InvalidTokenError("Send a hub access token: Authorization: Bearer <token>.")
    g.datasets_token_sent = True
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.InvalidTokenError("The Authorization header must be: Bearer <token>.")
    return verify_access_token(conn, token.strip(), settings=_settings())


def _query_params() -> Any:
    if request.content_length is not None and request.content_length > MAX_QUERY_BODY:
        raise errors.PayloadTooLargeError(f"The body may hold at most {MAX_QUERY_BODY} bytes.")
    request.max_content_length = MAX_QUERY_BODY
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise errors.PayloadTooLargeError(
            f"The body may hold at most {MAX_QUERY_BODY} bytes."
        ) from None
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (ValueError, RecursionError):
        raise errors.InvalidBodyError("The body is not valid UTF-8 JSON.") from None
    if not isinstance(body, Mapping):
        raise errors.InvalidBodyError('The body must be a JSON object: {"params": {...}}.')
    try:
        loaded = QUERY_BODY.load(body)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"body": exc.messages}
        raise errors.InvalidParamsError(
            {
                str(k): [str(m) for m in (v if isinstance(v, list) else [v])]
                for k, v in messages.items()
            },
            'The body must be {"params": {...}}; see errors.',
        ) from exc
    params: dict[str, Any] = loaded["params"]
    unusable = unusable_text(params)
    if unusable:
        raise errors.InvalidParamsError(unusable)
    return params


@bp.after_request
def _www_authenticate(response: Response) -> Response:
    """RFC 6750 §3: say how to authenticate on 401 and which scope is missing on 403."""
    if response.status_code not in (401, 403) or not response.is_json:
        return response
    body = response.get_json(silent=True) or {}
    if response.status_code == 401:
        if g.get("datasets_token_sent", True):
            response.headers["WWW-Authenticate"] = (
                f'Bearer realm="{REALM}", error="invalid_token", '
                f'error_description="{_quoted(body.get("detail", ""))}"'
            )
        else:
            response.headers["WWW-Authenticate"] = f'Bearer realm="{REALM}"'
    elif body.get("code") == "insufficient_scope":
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="{REALM}", error="insufficient_scope", '
            f'scope="{_quoted(body.get("scope", ""))}"'
        )
    return response


def _quoted(value: object) -> str:
    return "".join(c for c in str(value) if c.isprintable() and c not in '"\\')[:200]


def upstreams_check() -> tuple[bool, dict[str, Any]]:
    """Readiness detail: every upstream breaker; an open one degrades, it never makes unready."""
    states = runtime().breaker_states()
    open_ = sorted(name for name, s in states.items() if s["state"] != "closed")
    return True, {"status": "degraded" if open_ else "ok", "breakers": states, "open": open_}


def init_app(app: Flask, *, env: Mapping[str, str], policy: QueryPolicy | None = None) -> None:
    """Register the API; `env` supplies connectors' ${VAR} locations and credential variables.

    `policy` decides and records every query (governance); by default every field is
    permitted and nothing is recorded.
    """
    app.extensions["lgsp.datasets"] = DatasetRuntime(env=env, policy=policy)
    app.extensions.setdefault("lgsp.readiness", {})["upstreams"] = upstreams_check
    app.register_blueprint(bp)

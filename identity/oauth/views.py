"""HTTP endpoints of the provider: discovery, JWKS, authorize, token, userinfo, logout…"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
)
from werkzeug.wrappers import Response

from hub.http import autocommit, database, get_conn
from identity import events, keys, sessions
from identity.csrf import check_csrf
from identity.i18n import t
from identity.login import login_url, safe_next
from identity.oauth import scopes as scope_rules
from identity.oauth import store, tokens
from identity.oauth.clients import find as find_client
from identity.oauth.models import Client, GrantUser
from identity.oauth.server import (
    CODE_TTL,
    TOKEN_AUTH_METHODS,
    HubAuthorizationServer,
    error_redirect,
    settings,
)

bp = Blueprint("oauth", __name__)

#: Where the authorize endpoint remembers that it sent the browser to sign in again.
FORCED_LOGIN_KEY = "oauth_forced_login"
#: The query parameter that carries that marker's one-time value back to the request.
FORCED_LOGIN_PARAM = "lgsp_signin"
FORCED_LOGIN_WINDOW = 600
_MAX_PARAM = 2048


def server() -> HubAuthorizationServer:
    """The application's authorization server."""
    value: HubAuthorizationServer = current_app.extensions["lgsp.oauth"]
    return value


def _ensure_keys() -> None:
    conn = get_conn()
    if not keys.has_signing_keys(conn, settings()):
        with database().transaction() as fresh:
            keys.ensure_keys(fresh, settings=settings())
        keys.ring(conn, settings(), refresh=True)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return _no_store(make_response(render_template(template, **context), status))


def _oauth_json(status: int, error: str, description: str, **headers: str) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return _no_store(response)


# --- discovery and keys --------------------------------------------------------------------


def metadata() -> dict[str, Any]:
    """Provider metadata (OIDC Discovery §3, RFC 8414 §2): only what the hub supports."""
    issuer = settings().issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/oauth2/authorize",
        "token_endpoint": issuer + "/oauth2/token",
        "userinfo_endpoint": issuer + "/oauth2/userinfo",
        "jwks_uri": issuer + "/oauth2/jwks",
        "introspection_endpoint": issuer + "/oauth2/introspect",
        "revocation_endpoint": issuer + "/oauth2/revoke",
        "end_session_endpoint": issuer + "/oauth2/logout",
        "scopes_supported": list(scope_rules.USER_SCOPES) + ["dataset:<id>"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(keys.SIGNING_ALGORITHMS),
        "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "introspection_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS[:-1],
        "introspection_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "revocation_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": list(scope_rules.ACR_VALUES.values()),
        "claims_supported": scope_rules.CLAIMS_SUPPORTED,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["vi", "en"],
        "claim_types_supported": ["normal"],
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
    }


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery() -> Response:
    """OpenID Provider / authorization server metadata."""
    response = jsonify(metadata())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/oauth2/jwks")
def jwks() -> Response:
    """The public signing keys, the retired ones included until their tokens expire."""
    _ensure_keys()
    response = jsonify(keys.jwks(get_conn(), settings()))
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- token-side endpoints ------------------------------------------------------------------


@bp.post("/oauth2/token")
def token() -> Response:
    """The token endpoint (RFC 6749 §3.2)."""
    # Read as Authlib reads it (query string first), so that it picks this very grant.
    if request.values.get("grant_type") == "client_credentials":
        # Reads, a signature and one event row: nothing that needs a request transaction.
        autocommit()
    _ensure_keys()
    try:
        return _no_store(server().create_token_response())
    except OAuth2Error as error:
        return _no_store(server().handle_error_response(None, error))


@bp.post("/oauth2/introspect")
def introspect() -> Response:
    """Token introspection (RFC 7662)."""
    autocommit()  # read-only
    return _no_store(server().create_endpoint_response("introspection"))


@bp.post("/oauth2/revoke")
def revoke() -> Response:
    """Token revocation (RFC 7009)."""
    return _no_store(server().create_endpoint_response("revocation"))


@bp.route("/oauth2/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    """The UserInfo endpoint (OIDC Core §5.3): claims by the token's scopes."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return _oauth_json(
            401, "invalid_token", "A bearer access token is required.", WWW_Authenticate="Bearer"
        )
    conn = get_conn()
    try:
        claims = tokens.verify_access_token(conn, value.strip(), settings=settings())
    except tokens.InvalidTokenError as exc:
        return _oauth_json(
            401,
            "invalid_token",
            exc.detail,
            WWW_Authenticate='Bearer error="invalid_token"',
        )
    if claims.account_id is None or "openid" not in claims.scopes:
        return _oauth_json(
            403,
            "insufficient_scope",
            "The token was not issued with the openid scope for a person.",
            WWW_Authenticate='Bearer error="insufficient_scope", scope="openid"',
        )
    from identity.accounts import store as accounts

    account = accounts.get(conn, claims.account_id)
    body = scope_rules.user_claims(account, claims.scopes, sub=claims.sub, org=claims.org)
    return _no_store(jsonify(body))


# --- authorization endpoint ----------------------------------------------------------------


def _error_page(error: str, description: str | None, status: int = 400) -> Response:
    return _page("oauth/error.html", status, error=error, description=description)


def _authorize_error(error: OAuth2Error, state: str | None) -> Response:
    if error.redirect_uri:
        return redirect(
            error_redirect(error.redirect_uri, error.error, error.description, state), code=302
        )
    return _error_page(error.error, error.description)


def _consent_action() -> str:
    return request.full_path.rstrip("?")


def _login_redirect(
    *, acr: int, force: bool, hint: str | None, login: sessions.Login | None
) -> Response:
    target = request.full_path.rstrip("?")
    if force:
        # prompt=login / max_age: only a sign-in that ends after this redirect may answer
        # this very request, so the request comes back with a one-time value (OIDC Core
        # §3.1.2.1) and the browser's session keeps it with the sign-in it had then.
        nonce = secrets.token_urlsafe(16)
        session[FORCED_LOGIN_KEY] = {
            "nonce": nonce,
            "sid": login.session_id if login is not None else None,
            "at": sessions.utcnow().timestamp(),
        }
        args = [(k, v) for k, v in request.args.items(multi=True) if k != FORCED_LOGIN_PARAM]
        target = request.path + "?" + urlencode([*args, (FORCED_LOGIN_PARAM, nonce)])
    return redirect(login_url(safe_next(target), acr=acr, force=force, login_hint=hint), code=302)


def _signed_in_since_asked(login: sessions.Login) -> bool:
    """True when ``login`` began after the forced sign-in this very request asked for."""
    marker = session.get(FORCED_LOGIN_KEY)
    nonce = request.args.get(FORCED_LOGIN_PARAM)
    if not isinstance(marker, dict) or not nonce:
        return False
    expected, at = marker.get("nonce"), marker.get("at")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, nonce):
        return False
    if not isinstance(at, int | float):
        return False
    if sessions.utcnow().timestamp() - at > FORCED_LOGIN_WINDOW:
        return False
    return login.session_id != marker.get("sid") and login.auth_time.timestamp() >= at


def _parse_max_age(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequestError("Invalid 'max_age' parameter.")
    return int(value)


@bp.route("/oauth2/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    """The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) with consent."""
    if request.method == "GET" and len(request.query_string) > 8 * _MAX_PARAM:
        return _error_page("invalid_request", "The request is too long.")
    conn = get_conn()
    login = sessions.current_login(conn)
    state = request.values.get("state")
    try:
        grant = server().get_consent_grant(end_user=login)
    except OAuth2Error as error:
        return _authorize_error(error, state)
    redirect_uri: str = grant.redirect_uri
    oauth_request = grant.request
    client: Client = oauth_request.client
    data = oauth_request.payload.data

    def fail(error: str, description: str | None = None) -> Response:
        return redirect(error_redirect(redirect_uri, error, description, state), code=302)

    for name in ("state", "nonce", "login_hint", "acr_values", "prompt", "max_age"):
        if len(data.get(name) or "") > _MAX_PARAM:
            return fail("invalid_request", f"The '{name}' parameter is too long.")
    prompts = set((data.get("prompt") or "").split())
    try:
        max_age = _parse_max_age(data.get("max_age"))
    except OAuth2Error as error:
        return fail(error.error, error.description)
    required = scope_rules.required_level(data.get("acr_values"))
    hint = data.get("login_hint")
    hint = hint if hint and hint.isdigit() and len(hint) == 12 else None

    from identity.orgs import service as orgs

    account = sessions.current_account(conn)
    if account is not None and account.level < required:
        # The account itself cannot reach the level asked for: say so, never downgrade.
        return fail(
            "unmet_authentication_requirements",
            f"The service needs assurance level {required}.",
        )
    need_login, force = login is None, False
    if login is None:
        force = "login" in prompts or max_age is not None
    else:
        # Exact: no slack for a sign-in made just before the request (OIDC Core §3.1.2.1).
        fresh = _signed_in_since_asked(login)
        auth_age = sessions.utcnow().timestamp() - login.auth_time.timestamp()
        if not fresh and ("login" in prompts or (max_age is not None and auth_age > max_age)):
            need_login = force = True
        if hint and account is not None and hint != account.pin and not fresh:
            need_login = force = True
        if login.acr < required:
            need_login = True
    if need_login:
        if "none" in prompts:
            return fail("login_required", "The user must sign in.")
        return _login_redirect(acr=required, force=force, hint=hint, login=login)
    assert login is not None and account is not None

    requested = scope_rules.split(oauth_request.scope)
    memberships = orgs.list_memberships(conn, account.id) if "organization" in requested else []
    granted = store.find_consent(conn, account.id, client.client_id)
    need_consent = "consent" in prompts or granted is None or not set(requested) <= set(granted)
    org_choice: str | None = None
    chosen = False
    if request.method == "POST":
        check_csrf()
        decision = request.form.get("decision")
        if decision == "deny":
            events.record(
                conn,
                "consent.denied",
                account_id=account.id,
                client_id=client.client_id,
                session_id=login.session_id,
                ip=request.remote_addr,
                detail={"scope": scope_rules.join(requested)},
            )
            return fail("access_denied", "The user refused.")
        if decision == "allow":
            if request.form.get("step") == "consent":
                store.save_consent(conn, account.id, client.client_id, requested)
                events.record(
                    conn,
                    "consent.granted",
                    account_id=account.id,
                    client_id=client.client_id,
                    session_id=login.session_id,
                    ip=request.remote_addr,
                    detail={"scope": scope_rules.join(requested)},
                )
                need_consent = False
            if "org" in request.form:
                org_choice = request.form.get("org") or None
                chosen = True
    if need_consent:
        if "none" in prompts:
            return fail("consent_required", "The user must consent.")
        return _page(
            "oauth/consent.html",
            client_name=client.name,
            scope_texts=[scope_rules.describe(s, t) for s in requested],
            memberships=memberships,
            action=_consent_action(),
        )
    org: dict[str, Any] | None = None
    if memberships:
        if not chosen:
            if "none" in prompts:
                if len(memberships) != 1:
                    return fail("interaction_required", "The user must choose an organization.")
                org_choice, chosen = memberships[0].organization_id, True
            else:
                return _page(
                    "oauth/organization.html",
                    client_name=client.name,
                    memberships=memberships,
                    action=_consent_action(),
                )
        if org_choice:
            match = [m for m in memberships if m.organization_id == org_choice]
            if not match:
                return _error_page("invalid_request", "The organization is not one of yours.")
            m = match[0]
            org = {"tax_code": m.tax_code, "name": m.name, "role": m.role}

    s = settings()
    sub = tokens.pairwise_subject(s, client.sector, account.id)
    store.remember_subject(conn, sub=sub, sector=client.sector, account_id=account.id)
    user = GrantUser(
        account_id=account.id,
        sub=sub,
        session_id=login.session_id,
        auth_time=int(login.auth_time.timestamp()),
        acr=login.acr,
        amr=tuple(login.amr),
        org=org,
    )
    session.pop(FORCED_LOGIN_KEY, None)
    response: Response = server().create_authorization_response(grant=grant, grant_user=user)
    return _no_store(response)


# --- RP-initiated logout ---------------------------------------------------------------------


def _hinted_client(hint: str | None) -> tuple[Client | None, dict[str, Any] | None]:
    """The client and claims of a valid id_token_hint (expired ones accepted), else Nones."""
    if not hint or len(hint) > 8192 or hint.count(".") != 2:
        return None, None
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jws import extract_compact

    conn = get_conn()
    try:
        header = extract_compact(hint.encode("ascii")).headers()
        alg = header.get("alg")
        if alg not in keys.SIGNING_ALGORITHMS:
            return None, None
        key = keys.verification_key(conn, settings(), header.get("kid"))
        if key is None:
            return None, None
        claims = jwt.decode(hint, key, algorithms=[alg]).claims
    except (JoseError, ValueError, TypeError, KeyError, UnicodeError):
        return None, None
    if claims.get("iss") != settings().issuer:
        return None, None
    aud = claims.get("aud")
    client_id = aud if isinstance(aud, str) else (aud[0] if isinstance(aud, list) and aud else None)
    client = find_client(conn, client_id, settings=settings())
    return client, dict(claims)


@bp.route("/oauth2/logout", methods=["GET", "POST"])
def logout() -> Response:
    """RP-initiated logout 1.0: end the hub session, return only to a registered URI."""
    values = request.values
    post_logout = values.get("post_logout_redirect_uri")
    state = values.get("state")
    client, claims = _hinted_client(values.get("id_token_hint"))
    if client is None and values.get("client_id"):
        client = find_client(get_conn(), values.get("client_id"), settings=settings())
    conn = get_conn()
    login = sessions.current_login(conn)
    confirmed = False
    if request.method == "POST":
        check_csrf()
        confirmed = request.form.get("confirm") == "yes"
    elif claims is not None and login is not None:
        # A valid hint for this very session is the RP asking on the user's behalf.
        confirmed = claims.get("sid") == tokens.session_claim(settings(), login.session_id)
    if login is not None and not confirmed:
        carry = [
            (k, values[k])
            for k in ("id_token_hint", "post_logout_redirect_uri", "state", "client_id")
            if values.get(k) and len(values[k]) <= 8192
        ]
        return _page("oauth/logout.html", done=False, carry=carry)
    if login is not None:
        sessions.end_session(conn, login.session_id)  # its apps' tokens too (store.revoke_online)
        events.record(
            conn,
            "logout",
            account_id=login.account_id,
            client_id=client.client_id if client else None,
            session_id=login.session_id,
            ip=request.remote_addr,
            detail={"initiator": "rp" if client else "user"},
        )
    unregistered = False
    if post_logout:
        if client is not None and post_logout in client.post_logout_redirect_uris:
            target = post_logout
            if state:
                from authlib.common.urls import add_params_to_uri

                target = add_params_to_uri(post_logout, [("state", state)])
            response = redirect(target, code=302)
            return sessions.clear_cookie(_no_store(response))
        unregistered = True
    response = _page("oauth/logout.html", done=True, unregistered=unregistered)
    return sessions.clear_cookie(response)


# --- the account page's "apps you allowed" ------------------------------------------------------


def load_account_apps(conn: Any, account: Any) -> dict[str, Any]:
    """Data of the /account section listing the apps the citizen consented to."""
    apps = []
    for row in store.list_consents(conn, account.id):
        apps.append(
            {
                "client_id": row["client_id"],
                "name": row["name"],
                "granted_at": row["granted_at"],
                "scope_texts": [scope_rules.describe(s, t) for s in row["scopes"]],
            }
        )
    return {"apps": apps}


@bp.post("/account/apps/revoke")
def revoke_app() -> Response:
    """Withdraw a consent; the client's refresh tokens for this account are revoked too."""
    conn = get_conn()
    login = sessions.current_login(conn)
    if login is None:
        return redirect(login_url("/account"), code=303)
    check_csrf()
    client_id = request.form.get("client_id", "")
    if len(client_id) <= 100 and store.delete_consent(conn, login.account_id, client_id):
        count = store.revoke_families(
            conn,
            store.ACCOUNT_CLIENT,
            {"account_id": login.account_id, "client_id": client_id},
        )
        events.record(
            conn,
            "consent.revoked",
            account_id=login.account_id,
            client_id=client_id,
            session_id=login.session_id,
            ip=request.remote_addr,
            detail={"refresh_tokens": count},
        )
    return redirect("/account#section-oauth_apps", code=303)


__all__ = ["CODE_TTL", "bp", "load_account_apps", "metadata"]

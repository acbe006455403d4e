"""Authlib's authorization server on our stores: grants, PKCE policy, client auth, endpoints."""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import OpenIDCode
from authlib.oidc.core.util import create_half_hash
from flask import Flask, current_app, g
from flask import request as flask_request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hub.config import Settings
from hub.db import Connection
from hub.http import database, get_conn
from identity import events, keys
from identity.oauth import clients as client_service
from identity.oauth import scopes as scope_rules
from identity.oauth import store, tokens
from identity.oauth.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    GrantUser,
    RefreshToken,
)

log = logging.getLogger(__name__)

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
CODE_TTL = 60
ASSERTION_ALGORITHMS = ["ES256", "RS256", "PS256"]
ASSERTION_MAX_LIFETIME = 300
_MAX_OPAQUE = 200


def settings() -> Settings:
    """The application's settings."""
    value: Settings = current_app.extensions["lgsp.settings"]
    return value


def _ip() -> str | None:
    return flask_request.remote_addr


def _ts(value: int | float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class HubRequest(FlaskOAuth2Request):
    """The OAuth request with its URL built on the configured issuer (not the Host header)."""

    def __init__(self, request: Any, issuer: str):
        OAuth2Request.__init__(
            self, method=request.method, uri=issuer + request.full_path, headers=request.headers
        )
        self._request = request
        self.payload = FlaskOAuth2Payload(request)


class HubAuthorizationServer(AuthorizationServer):
    """The hub's authorization server: clients and tokens in PostgreSQL."""

    def query_client(self, client_id: object) -> Client | None:
        cache: dict[object, Client | None] = g.setdefault("oauth_clients", {})
        if client_id not in cache:
            cache[client_id] = client_service.find(get_conn(), client_id, settings=settings())
        return cache[client_id]

    def create_oauth2_request(self, request: Any) -> HubRequest:
        # The request object itself, not the context-local proxy: Authlib reads its form,
        # args and headers dozens of times per request, each a proxy lookup otherwise.
        return HubRequest(flask_request._get_current_object(), settings().issuer)  # type: ignore[attr-defined]

    def validate_requested_scope(self, scope: str | None) -> None:
        if scope and not all(scope_rules.is_known(s) for s in scope.split()):
            raise InvalidScopeError()

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Persist what a token response created and record the event."""
        jti, exp = g.pop("oauth_issued")
        client: Client = request.client
        user: GrantUser | None = request.user
        scope = token.get("scope", "")
        if user is None:
            # A client_credentials request writes nothing but this event: the background
            # writer batches such events (see identity.events).
            events.record_soon(
                database(),
                "token.issued",
                client_id=client.client_id,
                ip=_ip(),
                detail={"grant_type": "client_credentials", "scope": scope, "jti": jti},
            )
            return
        conn = get_conn()
        parent: RefreshToken | None = request.refresh_token
        code: AuthorizationCode | None = request.authorization_code
        if parent is not None:
            family_id, parent_id, kind = parent.family_id, parent.id, "token.refreshed"
        else:
            family_id, parent_id, kind = str(uuid.uuid4()), None, "token.issued"
            if code is not None:
                store.record_code_tokens(
                    conn, code.id, family_id=family_id, access_jti=jti, access_exp=_ts(exp)
                )
        refresh = token.get("refresh_token")
        if refresh:
            store.insert_refresh_token(
                conn,
                token_hash=tokens.token_hash(refresh),
                family_id=family_id,
                parent_id=parent_id,
                client_id=client.client_id,
                account_id=user.account_id,
                session_id=user.session_id,
                scope=scope,
                auth_time=_ts(user.auth_time),
                acr=user.acr,
                amr=list(user.amr),
                org=user.org,
                access_jti=jti,
                access_exp=_ts(exp),
                expires_at=_ts(time.time() + settings().refresh_token_ttl),
            )
        events.record(
            conn,
            kind,
            account_id=user.account_id,
            client_id=client.client_id,
            session_id=user.session_id,
            ip=_ip(),
            detail={
                "grant_type": request.payload.grant_type,
                "scope": scope,
                "jti": jti,
                "family_id": family_id,
            },
        )


def generate_token(
    grant_type: str,
    client: Client,
    user: GrantUser | None = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    """Authlib's token generator: a JWT access token and, for people, an opaque refresh token."""
    s = settings()
    access, jti, exp = tokens.issue_access_token(
        get_conn(), s, client=client, user=user, scope=scope or ""
    )
    g.oauth_issued = (jti, exp)
    token: dict[str, Any] = {
        "token_type": "Bearer",
        "access_token": access,
        "expires_in": s.access_token_ttl,
    }
    if scope:
        token["scope"] = scope
    if include_refresh_token and user is not None:
        token["refresh_token"] = secrets.token_urlsafe(32)
    return token


def revoke_family_apart(family_id: str, *, reason: str, client_id: str, account_id: str) -> None:
    """Revoke a token family in its own transaction (the request's is about to roll back)."""
    with database().transaction() as conn:
        count = store.revoke_families(conn, store.FAMILY, {"family_id": family_id})
        events.record(
            conn,
            "token.family_revoked",
            account_id=account_id,
            client_id=client_id,
            ip=_ip(),
            detail={"reason": reason, "family_id": family_id, "refresh_tokens": count},
        )


def _current_org(row: dict[str, Any]) -> dict[str, Any] | None:
    """The ``org`` claim of a refresh token as the membership stands now, or None if ended."""
    from identity.orgs import service as orgs

    org = row["org"]
    for m in orgs.list_memberships(get_conn(), str(row["account_id"])):
        if m.tax_code == org.get("tax_code"):
            return {"tax_code": m.tax_code, "name": m.name, "role": m.role}
    return None


def _grant_user(row: dict[str, Any]) -> GrantUser:
    client = client_service.find(get_conn(), row["client_id"], settings=settings())
    sector = client.sector if client else row["client_id"]
    account_id = str(row["account_id"])
    return GrantUser(
        account_id=account_id,
        sub=tokens.pairwise_subject(settings(), sector, account_id),
        session_id=row["session_id"],
        auth_time=int(row["auth_time"].timestamp()),
        acr=int(row["acr"]),
        amr=tuple(row["amr"] or ()),
        org=_current_org(row) if row["org"] else None,
    )


class S256CodeChallenge(CodeChallenge):
    """PKCE required for every client, S256 only (RFC 7636 §4.2; RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE with S256 is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    """Authorization code grant (RFC 6749 §4.1): single-use, 60-second codes."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        user: GrantUser = request.user
        data = request.payload.data
        store.insert_code(
            get_conn(),
            code_hash=tokens.token_hash(code),
            client_id=request.client.client_id,
            account_id=user.account_id,
            session_id=user.session_id,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope or "",
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            auth_time=_ts(user.auth_time),
            acr=user.acr,
            amr=list(user.amr),
            org=user.org,
            expires_at=_ts(time.time() + CODE_TTL),
        )

    def query_authorization_code(self, code: object, client: Client) -> AuthorizationCode | None:
        if not isinstance(code, str) or len(code) > _MAX_OPAQUE:
            return None
        conn = get_conn()
        row = store.find_code(conn, tokens.token_hash(code))
        if row is None or row["client_id"] != client.client_id:
            return None
        if row["used_at"] is not None or not store.claim_code(conn, row["id"]):
            # RFC 6749 §4.1.2: a code used twice is refused and its tokens are revoked.
            _revoke_code_tokens(row)
            return None
        if row["expired"]:
            return None
        return AuthorizationCode(
            id=row["id"],
            client_id=row["client_id"],
            redirect_uri=row["redirect_uri"] or "",
            scope=row["scope"],
            nonce=row["nonce"],
            code_challenge=row["code_challenge"],
            code_challenge_method=row["code_challenge_method"],
            user=_grant_user(row),
        )

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: the code was marked used when it was claimed."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> GrantUser:
        return authorization_code.user


def _revoke_code_tokens(row: dict[str, Any]) -> None:
    fresh = store.find_code(get_conn(), row["code_hash"])
    row = fresh or row
    with database().transaction() as conn:
        if row["access_jti"] and row["access_exp"]:
            store.deny_jti(conn, row["access_jti"], row["access_exp"])
        count = 0
        if row["family_id"]:
            count = store.revoke_families(conn, store.FAMILY, {"family_id": str(row["family_id"])})
        events.record(
            conn,
            "code.reused",
            account_id=str(row["account_id"]),
            client_id=row["client_id"],
            ip=_ip(),
            detail={"family_id": str(row["family_id"] or ""), "refresh_tokens": count},
        )


class RefreshGrant(grants.RefreshTokenGrant):
    """Refresh with rotation on every use and reuse detection (OAuth 2.1 §4.3.1)."""

    TOKEN_ENDPOINT_AUTH_METHODS = TOKEN_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: object) -> RefreshToken | None:
        if not isinstance(refresh_token, str) or len(refresh_token) > _MAX_OPAQUE:
            return None
        conn = get_conn()
        row = store.find_refresh_token(conn, tokens.token_hash(refresh_token))
        if row is None or row["revoked_at"] is not None:
            return None
        if row["used_at"] is not None:
            # An already-rotated token is presented again: someone holds a copy. Revoke all.
            revoke_family_apart(
                str(row["family_id"]),
                reason="refresh_token_reuse",
                client_id=row["client_id"],
                account_id=str(row["account_id"]),
            )
            return None
        if not store.claim_refresh_token(conn, row["id"]):
            # A concurrent request with the same token is rotating it: only one may win.
            # (Indistinguishable from a client's own retry, so the family is kept.)
            return None
        if row["expired"]:
            return None
        if row["org"] and _current_org(row) is None:
            # Issued for acting for an organization the account may no longer act for
            # (expired or removed membership): refused, so the app asks the person again
            # rather than silently acting as a private citizen.
            with database().transaction() as apart:  # the request's is about to roll back
                events.record(
                    apart,
                    "token.refused",
                    account_id=str(row["account_id"]),
                    client_id=row["client_id"],
                    ip=_ip(),
                    detail={"reason": "organization_ended", "family_id": str(row["family_id"])},
                )
            return None
        return _refresh_token(row)

    def authenticate_user(self, refresh_token: RefreshToken) -> GrantUser:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Nothing to do: the token was marked used when it was claimed."""


def _refresh_token(row: dict[str, Any]) -> RefreshToken:
    return RefreshToken(
        id=str(row["id"]),
        family_id=str(row["family_id"]),
        client_id=row["client_id"],
        scope=row["scope"],
        issued_at=int(row["created_at"].timestamp()),
        expires_at=int(row["expires_at"].timestamp()),
        revoked=row["revoked_at"] is not None,
        used=row["used_at"] is not None,
        user=_grant_user(row),
    )


class ClientCredentials(grants.ClientCredentialsGrant):
    """client_credentials for agency back-ends (RFC 6749 §4.4): one lookup, one signature."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client: Client = self.request.client
        requested = scope_rules.split(self.request.payload.scope)
        allowed = [s for s in client.scopes if s not in scope_rules.USER_SCOPES]
        if not requested:
            requested = allowed
        if any(s not in allowed for s in requested):
            raise InvalidScopeError()
        self.resolved_scope = scope_rules.join(requested)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.generate_token(scope=self.resolved_scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class HubOpenIDCode(OpenIDCode):
    """The ID token of the code flow (OIDC Core §3.1.3.6), signed with the hub's keys."""

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        # Nonces protect the client (it checks the one it sent); we do not keep them.
        return False

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        s = settings()
        client: Client = request.client
        user: GrantUser = request.user
        code: AuthorizationCode = request.authorization_code
        alg = client.id_token_signed_response_alg
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": s.issuer,
            "aud": client.client_id,
            "iat": now,
            "exp": now + keys.ID_TOKEN_TTL,
            "auth_time": user.auth_time,
            "acr": scope_rules.acr_of(user.acr),
            "amr": list(user.amr),
        }
        sid = tokens.session_claim(s, user.session_id)
        if sid:
            claims["sid"] = sid
        if code is not None and code.nonce:
            claims["nonce"] = code.nonce
        at_hash = create_half_hash(token["access_token"], alg)
        if at_hash is not None:
            claims["at_hash"] = at_hash.decode("ascii")
        account = _account(get_conn(), user.account_id)
        claims.update(
            scope_rules.user_claims(account, token["scope"].split(), sub=user.sub, org=user.org)
        )
        return keys.sign(get_conn(), s, claims, alg=alg)


def _account(conn: Connection, account_id: str) -> Any:
    from identity.accounts import store as accounts

    return accounts.get(conn, account_id)


class PrivateKeyJWT(JWTBearerClientAssertion):
    """private_key_jwt (RFC 7523 §2.2, OIDC Core §9) with an algorithm allow-list,
    a five-minute maximum lifetime and jti replay protection."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self) -> None:
        super().__init__(validate_jti=True, leeway=30)

    def get_audiences(self) -> list[str]:
        issuer = settings().issuer
        return [issuer + "/oauth2/token", issuer]

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if not client.jwks:
            raise InvalidClientError(description="The client has no registered keys.")
        return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> dict[str, Any]:
        try:
            claims = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS).claims
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise InvalidClientError(description="The client assertion is not valid.") from exc
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise InvalidClientError(description="The client assertion needs exp and iat.")
        if exp - iat > ASSERTION_MAX_LIFETIME:
            raise InvalidClientError(description="The client assertion lives too long.")
        if not isinstance(claims.get("jti"), str) or len(claims["jti"]) > 200:
            raise InvalidClientError(description="The client assertion needs a jti.")
        self.verify_claims(claims)
        return dict(claims)

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        # Its own transaction: a failed token request must not make the assertion reusable.
        with database().transaction() as conn:
            return store.remember_assertion(
                conn,
                client_id=str(claims["sub"]),
                jti=jti,
                expires_at=_ts(float(claims["exp"]) + self.leeway),
            )


def query_any_token(token: object, hint: str | None) -> AccessToken | RefreshToken | None:
    """Find a token for introspection or revocation: a JWT access token or a refresh token."""
    if not isinstance(token, str) or not token or len(token) > 8192:
        return None
    conn = get_conn()
    if token.count(".") == 2:
        try:
            claims = tokens.decode_access_token(conn, token, settings=settings())
        except tokens.InvalidTokenError:
            return None
        return AccessToken(claims=claims, revoked=store.is_denied(conn, claims["jti"]))
    if len(token) > _MAX_OPAQUE:
        return None
    row = store.find_refresh_token(conn, tokens.token_hash(token))
    return _refresh_token(row) if row else None


class Introspection(IntrospectionEndpoint):
    """RFC 7662 for confidential clients; revoked or expired tokens are inactive.

    Any of them may introspect an access token (resource servers must); a refresh token
    only by the client it was issued to, anyone else is told it is inactive (§4).
    """

    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return query_any_token(token_string, token_type_hint)

    def check_permission(self, token: Any, client: Client, request: OAuth2Request) -> bool:
        if isinstance(token, RefreshToken):
            return bool(token.client_id == client.client_id)
        return True

    def introspect_token(self, token: AccessToken | RefreshToken) -> dict[str, Any]:
        if isinstance(token, RefreshToken):
            return token.introspection(settings().issuer)
        return token.introspection()


class Revocation(RevocationEndpoint):
    """RFC 7009 by the client the token was issued to."""

    CLIENT_AUTH_METHODS = TOKEN_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        return query_any_token(token_string, token_type_hint)

    def revoke_token(self, token: AccessToken | RefreshToken, request: OAuth2Request) -> None:
        conn = get_conn()
        if isinstance(token, AccessToken):
            store.deny_jti(conn, token.jti, _ts(token.exp))
            detail: dict[str, Any] = {"token_type": "access_token", "jti": token.jti}
            account_id = None
        else:
            # Revoking a refresh token ends its whole grant, access tokens included (§2.1).
            store.revoke_families(conn, store.FAMILY, {"family_id": token.family_id})
            detail = {"token_type": "refresh_token", "family_id": token.family_id}
            account_id = token.user.account_id
        events.record(
            conn,
            "token.revoked",
            account_id=account_id,
            client_id=request.client.client_id,
            ip=_ip(),
            detail=detail,
        )


def create_server(app: Flask) -> HubAuthorizationServer:
    """The configured authorization server of ``app``."""
    server = HubAuthorizationServer()
    server.init_app(app)
    server.register_token_generator("default", generate_token)
    server.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
    server.register_grant(CodeGrant, [S256CodeChallenge(required=True), HubOpenIDCode()])
    server.register_grant(RefreshGrant)
    server.register_grant(ClientCredentials)
    server.register_endpoint(Introspection)
    server.register_endpoint(Revocation)
    return server


def error_redirect(
    redirect_uri: str, error: str, description: str | None, state: str | None
) -> str:
    """An authorization error response URL, with ``iss`` (RFC 6749 §4.1.2.1, RFC 9207 §2)."""
    params = [("error", error)]
    if description:
        params.append(("error_description", description))
    if state:
        params.append(("state", state))
    params.append(("iss", settings().issuer))
    return str(add_params_to_uri(redirect_uri, params))

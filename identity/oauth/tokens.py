"""Access tokens as JWTs (RFC 9068), pairwise subjects, and their verification.

The data API verifies bearer tokens with ``verify_access_token``. The audience of every
access token is ``<issuer>/api`` (the hub's shared-data API, see ``api_audience``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from hub.config import Settings
from hub.db import Connection
from hub.errors import HubError
from identity import keys
from identity.oauth import scopes as scope_rules
from identity.oauth import store
from identity.oauth.models import Client, GrantUser

#: Clock skew tolerated when checking exp/nbf/iat, in seconds.
LEEWAY = 30
AT_TYP = "at+jwt"
_MAX_TOKEN_LENGTH = 8192


class InvalidTokenError(HubError):
    """The access token is missing, invalid, expired or revoked."""

    status = 401
    code = "invalid_token"
    title = "Invalid token"
    origin = "client"


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says: who, for which client, with which scopes."""

    sub: str
    client_id: str
    account_id: str | None
    scopes: frozenset[str]
    acr: str | None
    org: dict[str, Any] | None
    jti: str
    exp: int
    auth_time: int | None = None

    @property
    def level(self) -> int | None:
        """The assurance level (1 or 2) of the sign-in behind the token, if a person is."""
        return scope_rules.level_of(self.acr)


def api_audience(settings: Settings) -> str:
    """The ``aud`` of access tokens: the hub's shared-data API."""
    return settings.issuer + "/api"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pairwise_subject(settings: Settings, sector: str, account_id: str) -> str:
    """The opaque ``sub`` of an account in a sector (OIDC Core §8.1); never the PIN."""
    key = keys.derive_secret(settings, "pairwise-subject")
    digest = hmac.new(key, f"{sector}\x00{account_id}".encode(), hashlib.sha256).digest()
    return _b64(digest)


def session_claim(settings: Settings, session_id: str | None) -> str | None:
    """The ``sid`` claim for a hub session (not its stored id)."""
    if not session_id:
        return None
    key = keys.derive_secret(settings, "session-id-claim")
    return _b64(hmac.new(key, session_id.encode("utf-8"), hashlib.sha256).digest()[:18])


def token_hash(value: str) -> str:
    """The stored form of a code or refresh token (SHA-256, hex)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def issue_access_token(
    conn: Connection,
    settings: Settings,
    *,
    client: Client,
    user: GrantUser | None,
    scope: str,
) -> tuple[str, str, int]:
    """Sign an access token; return it with its jti and expiry (Unix time)."""
    now = int(time.time())
    exp = now + settings.access_token_ttl
    jti = secrets.token_urlsafe(16)
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "sub": user.sub if user else client.client_id,
        "aud": api_audience(settings),
        "client_id": client.client_id,
        "iat": now,
        "exp": exp,
        "jti": jti,
    }
    if scope:
        claims["scope"] = scope
    if user is not None:
        claims["auth_time"] = user.auth_time
        claims["acr"] = scope_rules.acr_of(user.acr)
        if user.amr:
            claims["amr"] = list(user.amr)
        if user.org and "organization" in scope.split():
            claims["org"] = user.org
    return keys.sign(conn, settings, claims, typ=AT_TYP), jti, exp


# Tokens whose signature and claims were already checked in this process, so that a
# resource server introspecting the same token again costs no signature check. Only the
# time-dependent checks (exp) are repeated; the denylist is always asked by the caller.
_VERIFIED_MAX = 4096
_verified: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()
_verified_lock = threading.Lock()


def decode_access_token(
    conn: Connection, token: object, *, settings: Settings, audience: str | None = None
) -> dict[str, Any]:
    """Check an access token's form, signature and claims (not the denylist); return claims."""
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidTokenError()
    cache_key = (token, settings.issuer, audience or api_audience(settings))
    cached = _verified.get(cache_key)
    if cached is not None:
        if cached["exp"] + LEEWAY < time.time():
            raise InvalidTokenError("The access token has expired.")
        return dict(cached)
    claims = _decode_uncached(conn, token, settings=settings, audience=audience)
    with _verified_lock:
        _verified[cache_key] = claims
        while len(_verified) > _VERIFIED_MAX:
            _verified.popitem(last=False)
    return dict(claims)


def _decode_uncached(
    conn: Connection, token: str, *, settings: Settings, audience: str | None
) -> dict[str, Any]:
    if token.count(".") != 2:
        raise InvalidTokenError("The access token is not a JWT.")
    try:
        header = extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise InvalidTokenError("The access token is malformed.") from None
    alg = header.get("alg")
    if alg not in keys.SIGNING_ALGORITHMS:
        raise InvalidTokenError("The access token's algorithm is not accepted.")
    if header.get("typ") not in (AT_TYP, "application/" + AT_TYP):
        raise InvalidTokenError("The token is not an access token (typ at+jwt).")
    key = keys.verification_key(conn, settings, header.get("kid"))
    if key is None or key.get("alg") != alg:
        raise InvalidTokenError("The access token was not signed by a key of this hub.")
    try:
        claims = jwt.decode(token, key, algorithms=[alg]).claims
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": audience or api_audience(settings)},
            exp={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
        )
        registry.validate(claims)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        detail = getattr(exc, "description", None) or "The access token is not valid."
        raise InvalidTokenError(str(detail)) from None
    if not isinstance(claims["iat"], int | float) or claims["iat"] > time.time() + LEEWAY:
        raise InvalidTokenError("The access token is not valid yet.")
    for name in ("sub", "client_id", "jti"):
        if not isinstance(claims[name], str):
            raise InvalidTokenError(f"The access token's {name} is not a string.")
    if not isinstance(claims.get("scope", ""), str):
        raise InvalidTokenError("The access token's scope is not a string.")
    if not isinstance(claims["exp"], int | float):
        raise InvalidTokenError("The access token's exp is not a number.")
    return claims


def verify_access_token(
    conn: Connection, token: str, *, settings: Settings, audience: str | None = None
) -> AccessClaims:
    """Verify a bearer access token for the data API; raise InvalidTokenError (401) if bad.

    Checks the signature against the hub's published keys, the algorithm allow-list, typ
    ``at+jwt``, iss, aud (``<issuer>/api`` unless ``audience`` is given), exp/nbf/iat with
    a small leeway, and the revocation denylist. ``account_id`` is resolved from the
    pairwise subject; it is None for client_credentials tokens.
    """
    claims = decode_access_token(conn, token, settings=settings, audience=audience)
    person = "auth_time" in claims
    context = store.token_context(conn, jti=claims["jti"], sub=claims["sub"] if person else "")
    if context["revoked"]:
        raise InvalidTokenError("The access token has been revoked.")
    account_id = context["account_id"]
    if person and account_id is None:
        raise InvalidTokenError("The access token's subject is unknown.")
    org = claims.get("org")
    auth_time = claims.get("auth_time")
    return AccessClaims(
        sub=claims["sub"],
        client_id=claims["client_id"],
        account_id=str(account_id) if account_id else None,
        scopes=frozenset(str(claims.get("scope", "")).split()),
        acr=claims.get("acr") if isinstance(claims.get("acr"), str) else None,
        org=org if isinstance(org, dict) else None,
        jti=claims["jti"],
        exp=int(claims["exp"]),
        auth_time=int(auth_time) if isinstance(auth_time, int | float) else None,
    )

"""Registering client applications (relying parties and agency back-ends)."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hub.config import Settings
from hub.db import Connection
from hub.errors import NotFoundError, ValidationError
from identity.keys import SIGNING_ALGORITHMS, derive_secret
from identity.oauth import scopes as scope_rules
from identity.oauth import store
from identity.oauth.models import USER_GRANTS, Client, hash_secret

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def pepper(settings: Settings) -> bytes:
    """The key of the client-secret HMAC."""
    return derive_secret(settings, "client-secret-pepper")


# Clients are read on every token request: keep them briefly in each process. A change made
# in this process is seen at once (see forget); one made in another is seen within the TTL.
CACHE_TTL = 3.0
_cache: dict[object, tuple[float, Client]] = {}
_cache_lock = threading.Lock()


def find(conn: Connection, client_id: object, *, settings: Settings) -> Client | None:
    """An enabled client, or None."""
    now = time.monotonic()
    hit = _cache.get(client_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    row = store.find_client(conn, client_id)
    if row is None:
        forget(client_id)
        return None
    client = Client.from_row(row, pepper=pepper(settings))
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[client_id] = (now + CACHE_TTL, client)
    return client


def forget(client_id: object) -> None:
    """Drop a client from this process's cache (after it changed or was deleted)."""
    with _cache_lock:
        _cache.pop(client_id, None)


def list_clients(conn: Connection, *, settings: Settings) -> list[Client]:
    """Every registered client."""
    key = pepper(settings)
    return [Client.from_row(row, pepper=key) for row in store.list_clients(conn)]


def _check_uri(uri: str, what: str) -> str:
    if not isinstance(uri, str) or not uri or len(uri) > 2000:
        raise ValidationError(f"A {what} must be a URL of at most 2000 characters.")
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValidationError(f"The {what} {uri!r} is not an absolute http(s) URL.")
    if parts.fragment or "#" in uri:
        raise ValidationError(f"The {what} {uri!r} must not contain a fragment.")
    if parts.username or parts.password:
        raise ValidationError(f"The {what} {uri!r} must not contain user information.")
    return uri


def load_jwks(path: str | Path) -> dict[str, Any]:
    """Read a client's public JWKS from a file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"Cannot read a JWKS from {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError("A JWKS file holds a JSON object.")
    return data


def _check_jwks(jwks: dict[str, Any]) -> dict[str, Any]:
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValidationError("The JWKS must be an object with a non-empty 'keys' list.")
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in ("EC", "RSA"):
            raise ValidationError("Client keys must be EC or RSA public keys.")
        if "d" in key or "p" in key:
            raise ValidationError("The JWKS contains a private key; register only public keys.")
    try:
        KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ValidationError(f"The JWKS is not valid: {exc}") from None
    return jwks


def register_client(
    conn: Connection,
    *,
    settings: Settings,
    name: str,
    grant_types: Iterable[str],
    scopes: Iterable[str],
    redirect_uris: Iterable[str] = (),
    post_logout_redirect_uris: Iterable[str] = (),
    auth_method: str = "client_secret_basic",
    jwks: dict[str, Any] | None = None,
    sector: str | None = None,
    id_token_signed_response_alg: str = "ES256",  # noqa: S107 - an algorithm name
    client_id: str | None = None,
    client_secret: str | None = None,
) -> tuple[Client, str | None]:
    """Validate and store a client; return it with its secret (shown once, stored hashed).

    ``client_id`` and ``client_secret`` may be fixed (for demos); otherwise they are random.
    """
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("A client name has 1 to 200 characters.")
    grants = list(dict.fromkeys(grant_types))
    if not grants or any(g not in GRANT_TYPES for g in grants):
        raise ValidationError(f"Grant types are some of: {', '.join(GRANT_TYPES)}.")
    if "refresh_token" in grants and "authorization_code" not in grants:
        raise ValidationError("refresh_token needs the authorization_code grant type.")
    if auth_method not in AUTH_METHODS:
        raise ValidationError(f"The auth method is one of: {', '.join(AUTH_METHODS)}.")
    if auth_method == "none" and "client_credentials" in grants:
        raise ValidationError("A public client (auth method none) cannot use client_credentials.")
    scope_list = list(dict.fromkeys(scopes))
    for scope in scope_list:
        if not isinstance(scope, str) or not scope_rules.is_known(scope):
            raise ValidationError(f"Unknown scope {scope!r}.")
    uris = [_check_uri(u, "redirect URI") for u in dict.fromkeys(redirect_uris)]
    logout_uris = [
        _check_uri(u, "post-logout redirect URI") for u in dict.fromkeys(post_logout_redirect_uris)
    ]
    if any(g in USER_GRANTS for g in grants) and not uris:
        raise ValidationError("authorization_code needs at least one redirect URI.")
    if id_token_signed_response_alg not in SIGNING_ALGORITHMS:
        raise ValidationError(f"id_token_signed_response_alg is one of {SIGNING_ALGORITHMS}.")
    if auth_method == "private_key_jwt":
        if jwks is None:
            raise ValidationError("private_key_jwt needs the client's public JWKS.")
        jwks = _check_jwks(jwks)
    elif jwks is not None:
        raise ValidationError("Only private_key_jwt clients register a JWKS.")
    secret: str | None = None
    if auth_method in SECRET_METHODS:
        secret = client_secret or secrets.token_urlsafe(32)
        if len(secret) < 32:
            raise ValidationError("A client secret has at least 32 characters.")
    elif client_secret:
        raise ValidationError(f"A {auth_method} client has no secret.")
    client_id = client_id or secrets.token_urlsafe(16)
    # Pairwise subjects are per sector: by default the host of the first redirect URI.
    sector = (sector or (urlsplit(uris[0]).hostname if uris else None) or client_id).lower()
    key = pepper(settings)
    row = store.insert_client(
        conn,
        id=client_id,
        name=name,
        secret_hash=hash_secret(key, secret) if secret else None,
        auth_method=auth_method,
        grant_types=grants,
        scopes=scope_list,
        redirect_uris=uris,
        post_logout_redirect_uris=logout_uris,
        jwks=jwks,
        sector=sector[:255],
        alg=id_token_signed_response_alg,
    )
    return Client.from_row(row, pepper=key), secret


def describe(client: Client) -> dict[str, Any]:
    """A client as JSON-ready metadata (never the secret hash)."""
    return {
        "client_id": client.client_id,
        "client_name": client.name,
        "token_endpoint_auth_method": client.auth_method,
        "grant_types": list(client.grant_types),
        "scope": scope_rules.join(client.scopes),
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "sector_identifier": client.sector,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "created_at": client.created_at.isoformat() if client.created_at else None,
    }


def delete_client(conn: Connection, client_id: str) -> bool:
    """Remove a client with its codes, tokens and consents; True when it existed."""
    forget(client_id)
    return store.delete_client(conn, client_id)


def rotate_secret(conn: Connection, client_id: str, *, settings: Settings) -> str:
    """Give a client_secret_basic/post client a new random secret (returned once, stored
    hashed); the old one stops working at once in this process, within seconds elsewhere."""
    client = find(conn, client_id, settings=settings)
    if client is None:
        raise NotFoundError("There is no such client.")
    if client.auth_method not in SECRET_METHODS:
        raise ValidationError(f"A {client.auth_method} client has no secret to rotate.")
    secret = secrets.token_urlsafe(32)
    store.set_secret_hash(conn, client_id, hash_secret(pepper(settings), secret))
    forget(client_id)
    return secret

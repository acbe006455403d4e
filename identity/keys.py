"""Token signing keys: ES256 by default, RS256 per client; rotation with overlap.

Private keys are stored encrypted (Fernet, key derived with HKDF from the hub's secret key).
Each process keeps the keys in a small cache that is re-read every few seconds, so signing
does not touch the database per request and a rotation by another process is seen quickly.
A retired key stays published in the JWKS until every token it signed has expired.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey
from joserfc.jws import JWSRegistry
from joserfc.util import json_b64encode, urlsafe_b64encode

from hub.config import Settings
from hub.db import Connection, execute, fetch_all, fetch_one, json_param
from hub.errors import ConfigError, HubError

#: Algorithms the hub signs with (and accepts on its own tokens).
SIGNING_ALGORITHMS = ("ES256", "RS256")
DEFAULT_ALGORITHM = "ES256"
#: Lifetime of ID tokens, in seconds.
ID_TOKEN_TTL = 600
#: Extra time a retired key stays published after the longest-lived token it may have signed.
RETIRE_MARGIN = 300
#: How long a process trusts its cached copy of the key table, in seconds.
CACHE_SECONDS = 5.0

AnyKey = ECKey | RSAKey

_ADVISORY_LOCK = 7_512_340_003


class NoSigningKeyError(HubError):
    """There is no active signing key; run `lgsp keys rotate`."""

    code = "no_signing_key"
    title = "No signing key"


def derive_secret(settings: Settings, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived (HKDF-SHA256) from the hub's secret key."""
    if not settings.secret_key:
        raise ConfigError("the hub has no secret key (LGSP_SECRET_KEY)")
    return _derive(settings.secret_key, purpose)


@functools.lru_cache(maxsize=64)
def _derive(secret_key: str, purpose: str) -> bytes:
    # Cached: the token endpoint needs these keys on every request.
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"lgsp-hub",
        info=purpose.encode("utf-8"),
    ).derive(secret_key.encode("utf-8"))


def _fernet(settings: Settings) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derive_secret(settings, "signing-key-encryption")))


def retention(settings: Settings) -> timedelta:
    """How long a retired key stays published: the longest token lifetime plus a margin."""
    return timedelta(seconds=max(settings.access_token_ttl, ID_TOKEN_TTL) + RETIRE_MARGIN)


def _generate_jwk(alg: str) -> AnyKey:
    if alg == "ES256":
        return ECKey.generate_key("P-256", auto_kid=False)
    if alg == "RS256":
        return RSAKey.generate_key(2048, auto_kid=False)
    raise ValueError(f"unsupported signing algorithm {alg}")


def create_key(conn: Connection, *, settings: Settings, alg: str) -> str:
    """Generate and store a new active key for ``alg``; return its kid."""
    key = _generate_jwk(alg)
    kid = f"{alg.lower()}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
    public = key.as_dict(private=False)
    public.update({"kid": kid, "alg": alg, "use": "sig"})
    private = key.as_dict(private=True)
    token = _fernet(settings).encrypt(json.dumps(private).encode("utf-8")).decode("ascii")
    execute(
        conn,
        "INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_enc)"
        " VALUES (%(kid)s, %(alg)s, %(pub)s, %(priv)s)",
        {"kid": kid, "alg": alg, "pub": json_param(public), "priv": token},
    )
    return kid


def rotate(conn: Connection, *, settings: Settings) -> list[str]:
    """Make a new active key per algorithm; the old ones stop signing but stay published."""
    execute(conn, "SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK,))
    execute(
        conn,
        "UPDATE signing_keys SET retired_at = now(), expires_at = now() + %(keep)s"
        " WHERE retired_at IS NULL",
        {"keep": retention(settings)},
    )
    kids = [create_key(conn, settings=settings, alg=alg) for alg in SIGNING_ALGORITHMS]
    execute(conn, "DELETE FROM signing_keys WHERE expires_at < now() - interval '1 day'")
    invalidate()
    return kids


def ensure_keys(conn: Connection, *, settings: Settings) -> None:
    """Create the first key of each algorithm when there is none."""
    execute(conn, "SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK,))
    rows = fetch_all(conn, "SELECT DISTINCT alg FROM signing_keys WHERE retired_at IS NULL")
    have = {r["alg"] for r in rows}
    for alg in SIGNING_ALGORITHMS:
        if alg not in have:
            create_key(conn, settings=settings, alg=alg)


def list_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every stored key's public metadata, newest first."""
    return fetch_all(
        conn,
        "SELECT kid, alg, created_at, retired_at, expires_at FROM signing_keys"
        " ORDER BY created_at DESC",
    )


@dataclass
class KeyRing:
    """One process's view of the key table."""

    signing: dict[str, tuple[str, AnyKey]] = field(default_factory=dict)
    public: dict[str, AnyKey] = field(default_factory=dict)
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    loaded_at: float = 0.0
    private_cache: dict[str, AnyKey] = field(default_factory=dict)

    def key_set(self) -> KeySet:
        """The published keys as a joserfc KeySet (for verification)."""
        return KeySet(list(self.public.values()))


_rings: dict[str, KeyRing] = {}
_lock = threading.Lock()


def invalidate() -> None:
    """Forget every cached key ring (the next use re-reads the table)."""
    with _lock:
        for ring in _rings.values():
            ring.loaded_at = 0.0


def _load(conn: Connection, settings: Settings, ring: KeyRing) -> None:
    rows = fetch_all(
        conn,
        "SELECT kid, alg, public_jwk, retired_at, private_jwk_enc FROM signing_keys"
        " WHERE retired_at IS NULL OR expires_at > now() ORDER BY created_at DESC",
    )
    signing: dict[str, tuple[str, AnyKey]] = {}
    public: dict[str, AnyKey] = {}
    for row in rows:
        kid = row["kid"]
        public[kid] = _import_public(row["public_jwk"])
        if row["retired_at"] is None and row["alg"] not in signing:
            private = ring.private_cache.get(kid)
            if private is None:
                try:
                    raw = _fernet(settings).decrypt(row["private_jwk_enc"].encode("ascii"))
                except InvalidToken:
                    raise ConfigError(
                        f"signing key {kid} cannot be decrypted: the secret key changed; "
                        "run `lgsp keys rotate`"
                    ) from None
                private = _import_private(json.loads(raw), kid, row["alg"])
                ring.private_cache[kid] = private
            signing[row["alg"]] = (kid, private)
    ring.signing = signing
    ring.public = public
    ring.jwks = {"keys": [dict(row["public_jwk"]) for row in rows]}
    ring.private_cache = {k: v for k, v in ring.private_cache.items() if k in public}
    ring.loaded_at = time.monotonic()


def _import_public(data: dict[str, Any]) -> AnyKey:
    params: KeyParameters = {"kid": data["kid"], "alg": data["alg"], "use": "sig"}
    if data["kty"] == "EC":
        return ECKey.import_key({k: data[k] for k in ("kty", "crv", "x", "y")}, params)
    return RSAKey.import_key({k: data[k] for k in ("kty", "n", "e")}, params)


def _import_private(data: dict[str, Any], kid: str, alg: str) -> AnyKey:
    params: KeyParameters = {"kid": kid, "alg": alg, "use": "sig"}
    if data["kty"] == "EC":
        return ECKey.import_key(data, params)
    return RSAKey.import_key(data, params)


def has_signing_keys(conn: Connection, settings: Settings) -> bool:
    """True when every algorithm has an active key (else call ``ensure_keys`` first)."""
    return all(alg in ring(conn, settings).signing for alg in SIGNING_ALGORITHMS)


def ring(conn: Connection, settings: Settings, *, refresh: bool = False) -> KeyRing:
    """The cached key ring of this database, re-read when older than a few seconds."""
    dsn = conn.dsn
    with _lock:
        current = _rings.get(dsn)
        if current is None:
            current = _rings[dsn] = KeyRing()
    if refresh or time.monotonic() - current.loaded_at > CACHE_SECONDS:
        with _lock:
            if refresh or time.monotonic() - current.loaded_at > CACHE_SECONDS:
                _load(conn, settings, current)
    return current


def sign(
    conn: Connection,
    settings: Settings,
    claims: dict[str, Any],
    *,
    alg: str = DEFAULT_ALGORITHM,
    typ: str = "JWT",
) -> str:
    """Sign ``claims`` as a compact JWS with the active key of ``alg``."""
    if alg not in SIGNING_ALGORITHMS:
        alg = DEFAULT_ALGORITHM
    entry = ring(conn, settings).signing.get(alg)
    if entry is None:
        raise NoSigningKeyError(f"there is no active {alg} signing key")
    kid, key = entry
    # What jwt.encode does, minus building a registry and the header on every call: the
    # signature itself is joserfc's (RFC 7518 §3.4 for ES256), the bytes are the same.
    algorithm = _JWS_ALGORITHMS[alg]
    algorithm.check_key(key)
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    signing_input = _header_segment(alg, kid, typ) + b"." + urlsafe_b64encode(payload)
    signature = urlsafe_b64encode(algorithm.sign(signing_input, key))
    return (signing_input + b"." + signature).decode("ascii")


_JWS_ALGORITHMS = {alg: JWSRegistry(algorithms=[alg]).get_alg(alg) for alg in SIGNING_ALGORITHMS}


@functools.lru_cache(maxsize=64)
def _header_segment(alg: str, kid: str, typ: str) -> bytes:
    return json_b64encode({"typ": typ, "alg": alg, "kid": kid})


def jwks(conn: Connection, settings: Settings) -> dict[str, Any]:
    """The public JWK set: the active keys and the retired ones still in use."""
    return ring(conn, settings).jwks


def verification_key(conn: Connection, settings: Settings, kid: object) -> AnyKey | None:
    """The published key with this kid, re-reading the table once if it is unknown."""
    if not isinstance(kid, str):
        return None
    current = ring(conn, settings)
    key = current.public.get(kid)
    if key is None and time.monotonic() - current.loaded_at > 1.0:
        key = ring(conn, settings, refresh=True).public.get(kid)
    return key


def private_key_row(conn: Connection, kid: str) -> dict[str, Any] | None:
    """One stored key row (for tests and tooling)."""
    return fetch_one(conn, "SELECT * FROM signing_keys WHERE kid = %(kid)s", {"kid": kid})

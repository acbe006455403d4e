"""Rows of the provider's tables as frozen dataclasses behind Authlib's model interfaces."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin

from identity.oauth import scopes as scope_rules

#: Grant types that need a signed-in person (and so redirect URIs).
USER_GRANTS = ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class Client(ClientMixin):
    """A registered relying party or agency back-end (RFC 7591 metadata names)."""

    client_id: str
    name: str
    secret_hash: str | None
    auth_method: str
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    jwks: dict[str, Any] | None
    sector: str
    id_token_signed_response_alg: str
    created_at: datetime | None = None
    pepper: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def from_row(cls, row: dict[str, Any], *, pepper: bytes = b"") -> Client:
        """Build a client from an ``oauth_clients`` row."""
        return cls(
            client_id=row["id"],
            name=row["name"],
            secret_hash=row["secret_hash"],
            auth_method=row["auth_method"],
            grant_types=tuple(row["grant_types"]),
            scopes=tuple(row["scopes"]),
            redirect_uris=tuple(row["redirect_uris"]),
            post_logout_redirect_uris=tuple(row["post_logout_redirect_uris"]),
            jwks=row["jwks"],
            sector=row["sector"],
            id_token_signed_response_alg=row["id_token_signed_response_alg"],
            created_at=row.get("created_at"),
            pepper=pepper,
        )

    @property
    def client_metadata(self) -> dict[str, Any]:
        """RFC 7591 metadata, as Authlib reads it."""
        return {"id_token_signed_response_alg": self.id_token_signed_response_alg}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # One registered URI may be implied; with several the request must name one.
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The requested scope when every item is registered for this client, else None."""
        requested = scope_rules.split(scope)
        if any(s not in self.scopes for s in requested):
            return None
        return scope_rules.join(requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string comparison (RFC 9700 §4.1.3): no prefix, case or port leniency.
        return isinstance(redirect_uri, str) and redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.secret_hash or not isinstance(client_secret, str):
            return False
        given = hash_secret(self.pepper, client_secret)
        return hmac.compare_digest(given, self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def is_public(self) -> bool:
        """True for a client without credentials (PKCE only)."""
        return self.auth_method == "none"


def hash_secret(pepper: bytes, secret: str) -> str:
    """HMAC-SHA256 of a client secret, keyed with the hub's pepper (hex)."""
    return hmac.digest(pepper, secret.encode("utf-8"), "sha256").hex()


@dataclass(frozen=True)
class GrantUser:
    """A signed-in person as seen by one client: pairwise subject, session and assurance."""

    account_id: str
    sub: str
    session_id: str | None
    auth_time: int
    acr: int
    amr: tuple[str, ...]
    org: dict[str, Any] | None = None

    def get_user_id(self) -> str:
        return self.sub


@dataclass(frozen=True)
class AuthorizationCode(AuthorizationCodeMixin):
    """A claimed (single-use) authorization code."""

    id: int
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    user: GrantUser

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.user.auth_time

    def get_acr(self) -> str:
        return scope_rules.acr_of(self.user.acr)

    def get_amr(self) -> list[str]:
        return list(self.user.amr)


@dataclass(frozen=True)
class RefreshToken(TokenMixin):
    """An opaque refresh token of a rotation family."""

    id: str
    family_id: str
    client_id: str
    scope: str
    issued_at: int
    expires_at: int
    revoked: bool
    used: bool
    user: GrantUser

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_at - self.issued_at

    def is_expired(self) -> bool:
        return self.expires_at <= time.time()

    def is_revoked(self) -> bool:
        return self.revoked or self.used

    def get_user(self) -> GrantUser:
        return self.user

    def get_client(self) -> Any:
        return None

    def introspection(self, issuer: str) -> dict[str, Any]:
        """The RFC 7662 §2.2 answer for this token."""
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": self.client_id,
            "scope": self.scope,
            "sub": self.user.sub,
            "iss": issuer,
            "exp": self.expires_at,
            "iat": self.issued_at,
            "acr": scope_rules.acr_of(self.user.acr),
            "auth_time": self.user.auth_time,
        }


@dataclass(frozen=True)
class AccessToken(TokenMixin):
    """A verified JWT access token (RFC 9068) found by introspection or revocation."""

    claims: dict[str, Any]
    revoked: bool

    @property
    def jti(self) -> str:
        return str(self.claims["jti"])

    @property
    def exp(self) -> int:
        return int(self.claims["exp"])

    def check_client(self, client: Client) -> bool:
        return self.claims.get("client_id") == client.get_client_id()

    def get_scope(self) -> str:
        return str(self.claims.get("scope", ""))

    def get_expires_in(self) -> int:
        return self.exp - int(self.claims.get("iat", self.exp))

    def is_expired(self) -> bool:
        return self.exp <= time.time()

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> Any:
        return None

    def get_client(self) -> Any:
        return None

    def introspection(self) -> dict[str, Any]:
        """The RFC 7662 §2.2 answer: the token's own claims plus ``active``."""
        keep = ("iss", "sub", "aud", "client_id", "scope", "exp", "iat", "nbf", "jti", "acr")
        body: dict[str, Any] = {"active": True, "token_type": "Bearer"}
        body.update({k: self.claims[k] for k in keep if k in self.claims})
        for extra in ("auth_time", "org"):
            if extra in self.claims:
                body[extra] = self.claims[extra]
        return body

"""A small, strict OpenID Connect relying party (code flow + PKCE S256, state, nonce).

No Flask here: the demo agency apps call these functions and keep the per-browser
values (state, nonce, verifier) in their own session cookie.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# Algorithms the hub may sign with (ES256 by default, RS256 per client); never "none" or HS*.
ID_TOKEN_ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA"]
CLOCK_SKEW = 60


class RelyingPartyError(Exception):
    """The provider's answer could not be accepted."""


class ProblemError(RelyingPartyError):
    """The hub's API refused a call (RFC 9457 problem details, or whatever came back)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = str(problem.get("code") or "")
        super().__init__(
            f"HTTP {status} {self.code}: {problem.get('detail') or problem.get('title') or ''}"
        )


@dataclass(frozen=True)
class ClientConfig:
    """What a relying party knows about itself and its provider."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    scope: str = "openid profile"
    # Where the back channel (token, userinfo, jwks) reaches the provider; the issuer by default.
    backchannel_base: str | None = None
    timeout: float = 10.0


@dataclass
class Provider:
    """The provider's metadata and signing keys, fetched once and refreshed on an unknown key."""

    config: ClientConfig
    session: requests.Session = field(default_factory=requests.Session)
    _metadata: dict[str, Any] | None = None
    _keys: KeySet | None = None
    _keys_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _backchannel(self, url: str) -> str:
        base = self.config.backchannel_base
        if base and url.startswith(self.config.issuer):
            return base.rstrip("/") + url[len(self.config.issuer) :]
        return url

    def metadata(self) -> dict[str, Any]:
        """The discovery document, checked to name our issuer (OIDC Discovery §4.3)."""
        with self._lock:
            if self._metadata is None:
                url = self._backchannel(f"{self.config.issuer}/.well-known/openid-configuration")
                response = self.session.get(url, timeout=self.config.timeout)
                response.raise_for_status()
                metadata = response.json()
                if metadata.get("issuer") != self.config.issuer:
                    raise RelyingPartyError(
                        f"discovery names issuer {metadata.get('issuer')!r}, "
                        f"expected {self.config.issuer!r}"
                    )
                self._metadata = metadata
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's JWKS (re-fetched at most every 10 s when a key is unknown)."""
        with self._lock:
            stale = refresh and time.monotonic() - self._keys_at > 10
            if self._keys is None or stale:
                jwks_uri = self._metadata["jwks_uri"] if self._metadata else None
                if jwks_uri is None:
                    raise RelyingPartyError("no jwks_uri in the discovery document")
                response = self.session.get(
                    self._backchannel(jwks_uri), timeout=self.config.timeout
                )
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
                self._keys_at = time.monotonic()
            return self._keys

    def endpoint(self, name: str) -> str:
        """A named endpoint from the discovery document."""
        url = self.metadata().get(name)
        if not url:
            raise RelyingPartyError(f"the provider does not advertise {name}")
        return str(url)


@dataclass(frozen=True)
class AuthorizationRequest:
    """The URL to send the browser to, and the values to check the answer against."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def pkce_challenge(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_request(
    provider: Provider, *, scope: str | None = None, **extra: str
) -> AuthorizationRequest:
    """Build an authorization request (OIDC Core §3.1.2.1) with PKCE S256, state and nonce."""
    config = provider.config
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": config.redirect_uri,
        "scope": scope or config.scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        **{k: v for k, v in extra.items() if v},
    }
    url = f"{provider.endpoint('authorization_endpoint')}?{urlencode(params)}"
    return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)


def check_response_issuer(provider: Provider, iss: str | None) -> None:
    """RFC 9207 §2.4: when the provider says it sends ``iss``, it must be there and be ours."""
    advertised = provider.metadata().get("authorization_response_iss_parameter_supported")
    if iss is None and not advertised:
        return
    if iss != provider.config.issuer:
        raise RelyingPartyError(f"the authorization response came from issuer {iss!r}")


def exchange_code(provider: Provider, *, code: str, code_verifier: str) -> dict[str, Any]:
    """Redeem an authorization code at the token endpoint (client_secret_basic)."""
    config = provider.config
    response = provider.session.post(
        provider._backchannel(provider.endpoint("token_endpoint")),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config.redirect_uri,
            "code_verifier": code_verifier,
        },
        auth=(config.client_id, config.client_secret),
        timeout=config.timeout,
    )
    body = _json(response)
    if response.status_code != 200 or "id_token" not in body:
        raise RelyingPartyError(
            f"token endpoint answered {response.status_code}: "
            f"{body.get('error', '')} {body.get('error_description', '')}".strip()
        )
    return body


def verify_id_token(
    provider: Provider, id_token: str, *, nonce: str, max_age: int | None = None
) -> dict[str, Any]:
    """Validate an ID token (OIDC Core §3.1.3.7): signature by a JWKS key, iss, aud, exp, nonce."""
    try:
        try:
            token = jwt.decode(id_token, provider.keys(), algorithms=ID_TOKEN_ALGORITHMS)
        except (ValueError, JoseError):
            # The provider may have rotated keys since we fetched them.
            token = jwt.decode(
                id_token, provider.keys(refresh=True), algorithms=ID_TOKEN_ALGORITHMS
            )
    except (ValueError, JoseError) as exc:
        raise RelyingPartyError(f"the ID token signature is not valid: {exc}") from exc
    claims = dict(token.claims)
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_SKEW,
        iss={"essential": True, "value": provider.config.issuer},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise RelyingPartyError(f"the ID token was refused: {exc}") from exc
    audiences = claims["aud"] if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    if provider.config.client_id not in audiences:
        raise RelyingPartyError("the ID token is not meant for this application (aud)")
    if len(audiences) > 1 and claims.get("azp") != provider.config.client_id:
        raise RelyingPartyError("the ID token has several audiences and azp is not ours")
    if max_age is not None and claims.get("auth_time", 0) + max_age + CLOCK_SKEW < time.time():
        raise RelyingPartyError("the sign-in is older than max_age")
    return claims


def fetch_userinfo(provider: Provider, access_token: str, *, sub: str) -> dict[str, Any]:
    """The UserInfo claims (OIDC Core §5.3), whose sub must match the ID token's (§5.3.4)."""
    response = provider.session.get(
        provider._backchannel(provider.endpoint("userinfo_endpoint")),
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=provider.config.timeout,
    )
    if response.status_code != 200:
        raise RelyingPartyError(f"userinfo answered {response.status_code}")
    claims = _json(response)
    if claims.get("sub") != sub:
        raise RelyingPartyError("userinfo is about another subject than the ID token")
    return claims


def query_dataset(
    provider: Provider,
    access_token: str,
    *,
    dataset: str,
    purpose: str,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``POST /api/v1/datasets/{dataset}/query`` with the citizen's access token.

    On behalf of a signed-in citizen the hub fills in his own identifying params, so
    ``params`` is normally empty. Raises ProblemError when the hub refuses.
    """
    response = provider.session.post(
        provider._backchannel(f"{provider.config.issuer}/api/v1/datasets/{dataset}/query"),
        json={"params": params or {}},
        headers={
            "Authorization": f"Bearer {access_token}",
            "X-Purpose": purpose,
            "Accept": "application/json, application/problem+json",
        },
        timeout=provider.config.timeout,
    )
    body = _json(response)
    if response.status_code != 200:
        raise ProblemError(response.status_code, body)
    if "data" not in body or not isinstance(body.get("meta", {}), dict):
        raise RelyingPartyError("the dataset answer has no data")
    return body


def logout_url(provider: Provider, *, id_token: str, state: str) -> str:
    """RP-initiated logout (OIDC RP-Initiated Logout §2) back to our registered URI."""
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": provider.config.post_logout_redirect_uri,
        "client_id": provider.config.client_id,
        "state": state,
    }
    return f"{provider.endpoint('end_session_endpoint')}?{urlencode(params)}"


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}

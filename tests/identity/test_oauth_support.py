"""Helpers shared by the OAuth/OIDC provider tests (no tests here)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from hub.config import Settings
from hub.db import Database
from identity import demo_seed
from identity.oauth.clients import register_client

AN = ("001087012345", "An@demo2025")  # level 1
BINH = ("079301234567", "Binh@demo2025")  # level 2 with TOTP, organization representative
CUONG = ("048095001122", "Cuong@demo2025")  # level 1, organization staff
RP_REDIRECT = "https://portal.example.vn/callback"
RP_LOGOUT = "https://portal.example.vn/signed-out"


@pytest.fixture
def seeded(db: Database) -> dict[str, Any]:
    with db.transaction() as conn:
        return demo_seed.seed(conn)


@dataclass
class RP:
    client_id: str
    secret: str | None

    @property
    def auth(self) -> tuple[str, str]:
        assert self.secret
        return (self.client_id, self.secret)


def make_client(db: Database, settings: Settings, **overrides: Any) -> RP:
    values: dict[str, Any] = {
        "name": "Cổng dịch vụ công tỉnh",
        "grant_types": ["authorization_code", "refresh_token"],
        "scopes": ["openid", "profile", "pid", "email", "phone", "organization", "offline_access"],
        "redirect_uris": [RP_REDIRECT],
        "post_logout_redirect_uris": [RP_LOGOUT],
    }
    values.update(overrides)
    with db.transaction() as conn:
        client, secret = register_client(conn, settings=settings, **values)
    return RP(client.client_id, secret)


@pytest.fixture
def rp(db: Database, settings: Settings) -> RP:
    return make_client(db, settings)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: FlaskClient, pin: str, password: str, *, next_path: str = "/account") -> None:
    page = client.get("/login?force=1")
    token = csrf_of(page.get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "pin": pin, "password": password, "next": next_path},
    )
    assert response.status_code == 303, response.get_data(as_text=True)


def submit_otp(client: FlaskClient) -> Any:
    page = client.get("/login/otp")
    assert page.status_code == 200, page.get_data(as_text=True)
    code = pyotp.TOTP(demo_seed.BINH_TOTP_SECRET).now()
    return client.post(
        "/login/otp", data={"csrf_token": csrf_of(page.get_data(as_text=True)), "code": code}
    )


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(rp: RP, *, challenge: str, **params: str) -> str:
    query = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": RP_REDIRECT,
        "scope": "openid profile",
        "state": "st-" + secrets.token_hex(4),
        "nonce": "n-" + secrets.token_hex(4),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    query.update(params)
    return "/oauth2/authorize?" + urlencode({k: v for k, v in query.items() if v is not None})


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent(client: FlaskClient, response: Any, *, decision: str = "allow", **form: str) -> Any:
    """Answer the consent (or organization) page shown in ``response``."""
    html = response.get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    assert action, html
    step = re.search(r'name="step" value="([^"]+)"', html)
    data = {
        "csrf_token": csrf_of(html),
        "decision": decision,
        "step": step.group(1) if step else "",
    }
    data.update(form)
    return client.post(action.group(1).replace("&amp;", "&"), data=data)


def get_code(client: FlaskClient, rp: RP, *, scope: str = "openid profile", **params: str) -> dict:
    """Run the authorization request (answering consent) and return the redirect's query."""
    verifier, challenge = pkce()
    response = client.get(authorize_url(rp, challenge=challenge, scope=scope, **params))
    if response.status_code == 200:
        response = consent(client, response)
    if response.status_code == 200 and "organization" in response.get_data(as_text=True):
        response = consent(client, response)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(RP_REDIRECT + "?"), location
    result = query_of(location)
    result["verifier"] = verifier
    return result


def exchange(client: FlaskClient, rp: RP, code: str, verifier: str) -> Any:
    return client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": RP_REDIRECT,
            "code_verifier": verifier,
        },
        auth=rp.auth,
    )


def login_tokens(
    client: FlaskClient, rp: RP, *, scope: str = "openid profile", **params: str
) -> dict:
    got = get_code(client, rp, scope=scope, **params)
    response = exchange(client, rp, got["code"], got["verifier"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    body["nonce_sent"] = params.get("nonce")
    return body


def jwks_of(client: FlaskClient) -> KeySet:
    return KeySet.import_key_set(client.get("/oauth2/jwks").get_json())


def verify_jwt(client: FlaskClient, token: str) -> jwt.Token:
    return jwt.decode(token, jwks_of(client), algorithms=["ES256", "RS256"])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], *, hmac_key: bytes | None = None) -> str:
    """A JWT signed by hand: HS256 with ``hmac_key`` or, without a key, alg none."""
    import hmac
    import json

    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(claims).encode())
    signing_input = f"{head}.{body}".encode()
    signature = b""
    if hmac_key is not None:
        signature = hmac.new(hmac_key, signing_input, hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"

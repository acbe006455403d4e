"""Hostile input: forged tokens, redirect-URI variants, PKCE downgrade, CSRF, markup, size."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from joserfc.jwk import ECKey

from hub.config import Settings
from hub.db import Database
from identity import keys
from identity.oauth.tokens import InvalidTokenError, verify_access_token
from tests.identity.test_oauth_support import (
    AN,
    RP,
    RP_REDIRECT,
    authorize_url,
    consent,
    csrf_of,
    forge,
    login_tokens,
    make_client,
    pkce,
    query_of,
    rp,
    seeded,
    sign_in,
)

__all__ = ["rp", "seeded"]


def _claims(rp: RP, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "http://localhost",
        "sub": rp.client_id,
        "aud": "http://localhost/api",
        "client_id": rp.client_id,
        "scope": "openid",
        "iat": now,
        "exp": now + 300,
        "jti": "j-" + str(now),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hostile_tokens(db: Database, settings: Settings, rp: RP) -> dict[str, str]:
    now = int(time.time())
    with db.transaction() as conn:
        ring = keys.ring(conn, settings, refresh=True)
        if not ring.signing:
            keys.ensure_keys(conn, settings=settings)
    with db.transaction() as conn:
        ring = keys.ring(conn, settings, refresh=True)
        kid, es_key = ring.signing["ES256"]
        rsa_kid, rsa_key = ring.signing["RS256"]

        def signed(typ: str = "at+jwt", **changes: Any) -> str:
            return keys.sign(conn, settings, _claims(rp, **changes), typ=typ)

        good = signed()
        head, body, sig = good.split(".")
        other_body = forge({}, _claims(rp, scope="openid pid")).split(".")[1]
        tampered_sig = sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")
        tokens = {
            "alg none": forge({"alg": "none", "typ": "at+jwt", "kid": kid}, _claims(rp)),
            "HS256 with the EC public key": forge(
                {"alg": "HS256", "typ": "at+jwt", "kid": kid},
                _claims(rp),
                hmac_key=es_key.as_pem(private=False),
            ),
            "HS256 with the RSA public key": forge(
                {"alg": "HS256", "typ": "at+jwt", "kid": rsa_kid},
                _claims(rp),
                hmac_key=rsa_key.as_pem(private=False),
            ),
            "expired": signed(iat=now - 900, exp=now - 300),
            "not yet valid": signed(nbf=now + 600),
            "issued in the future": signed(iat=now + 600, exp=now + 900),
            "wrong issuer": signed(iss="https://evil.example.com"),
            "wrong audience": signed(aud="https://other.example.com/api"),
            "no audience": signed(aud=None),
            "no expiry": signed(exp=None),
            "tampered signature": f"{head}.{body}.{tampered_sig}",
            "tampered payload": f"{head}.{other_body}.{sig}",
            "id token (typ JWT)": signed(typ="JWT"),
            "unknown key": forge({"alg": "ES256", "typ": "at+jwt", "kid": "nope"}, _claims(rp)),
            "foreign key": __import__("joserfc.jwt", fromlist=["encode"]).encode(
                {"alg": "ES256", "typ": "at+jwt", "kid": kid},
                _claims(rp),
                ECKey.generate_key("P-256"),
                algorithms=["ES256"],
            ),
            "garbage": "a.b.c",
            "not a jwt": "opaque-token-value",
            "very long": "x" * 100_000,
            "markup": "<script>alert(1)</script>.'; DROP TABLE accounts;--.x",
        }
    return tokens


def test_hostile_access_tokens_are_refused(
    client: FlaskClient, db: Database, settings: Settings, rp: RP
) -> None:
    for name, token in _hostile_tokens(db, settings, rp).items():
        with db.transaction() as conn:
            with pytest.raises(InvalidTokenError):
                verify_access_token(conn, token, settings=settings)
        response = client.get("/oauth2/userinfo", headers={"Authorization": "Bearer " + token})
        assert response.status_code == 401, name
        assert response.get_json()["error"] == "invalid_token", name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
        introspected = client.post("/oauth2/introspect", data={"token": token}, auth=rp.auth)
        assert introspected.get_json() == {"active": False}, name


def test_userinfo_without_or_with_a_malformed_header(client: FlaskClient) -> None:
    for header in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        response = client.get("/oauth2/userinfo", headers=header)
        assert response.status_code == 401


def test_client_credentials_token_has_no_userinfo(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    agency = make_client(
        db,
        settings,
        grant_types=["client_credentials"],
        scopes=["dataset:x"],
        redirect_uris=[],
        post_logout_redirect_uris=[],
    )
    token = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=agency.auth
    ).get_json()["access_token"]
    response = client.get("/oauth2/userinfo", headers={"Authorization": "Bearer " + token})
    assert response.status_code == 403 and response.get_json()["error"] == "insufficient_scope"


@pytest.mark.parametrize(
    "uri",
    [
        "https://portal.example.vn/callback/",
        "https://portal.example.vn/callbackx",
        "https://portal.example.vn/call",
        "https://PORTAL.example.vn/callback",
        "https://portal.example.vn/Callback",
        "https://portal.example.vn:8443/callback",
        "https://portal.example.vn:443/callback",
        "http://portal.example.vn/callback",
        "https://portal.example.vn/callback#frag",
        "https://portal.example.vn/callback?x=1",
        "https://portal.example.vn.evil.com/callback",
        "https://evil.example.com/callback",
        "https://portal.example.vn@evil.example.com/callback",
        "javascript:alert(1)",
    ],
)
def test_redirect_uri_variants_get_an_error_page_not_a_redirect(
    client: FlaskClient, seeded: Any, rp: RP, uri: str
) -> None:
    sign_in(client, *AN)
    verifier, challenge = pkce()
    response = client.get(authorize_url(rp, challenge=challenge, redirect_uri=uri))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "invalid_request" in response.get_data(as_text=True)


def test_unknown_or_missing_client_gets_an_error_page(client: FlaskClient) -> None:
    for params in ({"client_id": "no-such-client"}, {"client_id": "' OR 1=1 --"}, {}):
        query = {"response_type": "code", "redirect_uri": RP_REDIRECT, **params}
        response = client.get("/oauth2/authorize?" + urlencode(query))
        assert response.status_code == 400 and "Location" not in response.headers


def test_implicit_and_hybrid_are_refused(client: FlaskClient, seeded: Any, rp: RP) -> None:
    verifier, challenge = pkce()
    for response_type in ("token", "id_token", "code id_token", "code token", "none"):
        response = client.get(
            authorize_url(rp, challenge=challenge, response_type=response_type, state="s")
        )
        assert response.status_code == 302, response_type
        got = query_of(response.headers["Location"])
        assert got["error"] == "unsupported_response_type", response_type
        assert got["state"] == "s"
        assert "#" not in response.headers["Location"]


def test_pkce_is_required_and_only_s256(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *AN)
    verifier, challenge = pkce()
    cases = [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge": verifier, "code_challenge_method": "plain"},
        {"code_challenge_method": None},
        {"code_challenge": "short"},
    ]
    for case in cases:
        response = client.get(authorize_url(rp, challenge=challenge, **case))  # type: ignore[arg-type]
        assert response.status_code == 302, case
        assert query_of(response.headers["Location"])["error"] == "invalid_request", case


def test_public_client_needs_pkce_too(
    client: FlaskClient, seeded: Any, db: Database, settings: Settings
) -> None:
    public = make_client(db, settings, auth_method="none")
    sign_in(client, *AN)
    verifier, challenge = pkce()
    page = client.get(authorize_url(public, challenge=challenge))
    answered = consent(client, page)
    code = query_of(answered.headers["Location"])["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": RP_REDIRECT,
        "client_id": public.client_id,
    }
    assert client.post("/oauth2/token", data=data).get_json()["error"] == "invalid_request"
    data["code_verifier"] = verifier
    ok = client.post("/oauth2/token", data=data)
    assert ok.status_code == 200, ok.get_json()


def test_consent_needs_a_valid_csrf_token(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *AN)
    verifier, challenge = pkce()
    url = authorize_url(rp, challenge=challenge)
    page = client.get(url)
    assert page.status_code == 200
    for token in (None, "wrong-token-" + "x" * 30):
        data = {"decision": "allow", "step": "consent"}
        if token:
            data["csrf_token"] = token
        response = client.post(url, data=data)
        assert response.status_code == 400 and "Location" not in response.headers
    ok = client.post(
        url,
        data={
            "decision": "allow",
            "step": "consent",
            "csrf_token": csrf_of(page.get_data(as_text=True)),
        },
    )
    assert ok.status_code == 302


def test_markup_and_sql_in_parameters(
    client: FlaskClient, seeded: Any, db: Database, settings: Settings
) -> None:
    evil = make_client(db, settings, name="<script>alert('x')</script> '; DROP TABLE accounts;--")
    sign_in(client, *AN)
    verifier, challenge = pkce()
    state = "<b>'\"; DROP TABLE oauth_clients;--"
    page = client.get(
        authorize_url(
            evil,
            challenge=challenge,
            state=state,
            nonce="<i>n</i>",
            login_hint="'; DROP TABLE accounts;--",
        )
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    answered = consent(client, page)
    assert answered.status_code == 302
    assert query_of(answered.headers["Location"])["state"] == state
    bad_scope = client.get(
        authorize_url(evil, challenge=challenge, scope="openid <script>", state="s")
    )
    assert query_of(bad_scope.headers["Location"])["error"] == "invalid_scope"


def test_very_long_values_never_cause_a_500(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *AN)
    verifier, challenge = pkce()
    long = "x" * 5000
    for params in (
        {"state": long},
        {"nonce": long},
        {"login_hint": long},
        {"scope": long},
        {"client_id": long},
        {"redirect_uri": "https://a/" + long},
        {"code_challenge": long},
        {"max_age": "9" * 50},
        {"prompt": long},
        {"acr_values": long},
        {"state": "y" * 100_000},
    ):
        response = client.get(authorize_url(rp, challenge=challenge, **params))
        assert response.status_code in (302, 400), params
    for data in (
        {"grant_type": "authorization_code", "code": long, "code_verifier": long},
        {"grant_type": "refresh_token", "refresh_token": long},
        {"grant_type": "client_credentials", "scope": long},
        {"grant_type": long},
    ):
        response = client.post("/oauth2/token", data=data, auth=rp.auth)
        assert 400 <= response.status_code < 500, data
        assert "error" in response.get_json()
    response = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("x" * 3000, "y" * 3000),
    )
    assert response.status_code == 401
    assert client.post("/oauth2/revoke", data={"token": long}, auth=rp.auth).status_code == 200
    logout = client.get(
        "/oauth2/logout", query_string={"id_token_hint": long, "post_logout_redirect_uri": long}
    )
    assert logout.status_code == 200


def test_post_logout_uri_needs_a_known_client(client: FlaskClient, seeded: Any, rp: RP) -> None:
    response = client.get(
        "/oauth2/logout",
        query_string={"post_logout_redirect_uri": "https://portal.example.vn/signed-out"},
    )
    # No id_token_hint nor client_id: the URI cannot be checked, so nobody is redirected.
    assert response.status_code == 200 and "Location" not in response.headers


def test_expired_code_is_refused(client: FlaskClient, seeded: Any, rp: RP, db: Database) -> None:
    sign_in(client, *AN)
    tokens = login_tokens(client, rp)
    assert tokens["access_token"]
    verifier, challenge = pkce()
    response = client.get(authorize_url(rp, challenge=challenge))
    code = query_of(response.headers["Location"])["code"]
    with db.transaction() as conn:
        conn.cursor().execute(
            "UPDATE oauth_authorization_codes SET expires_at = now() - interval '1 second'"
        )
    expired = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": RP_REDIRECT,
            "code_verifier": verifier,
        },
        auth=rp.auth,
    )
    assert expired.get_json()["error"] == "invalid_grant"

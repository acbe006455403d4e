"""The provider end to end through HTTP: discovery, code + PKCE, tokens, userinfo, logout."""

from __future__ import annotations

import hashlib
from base64 import urlsafe_b64encode
from typing import Any

from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database, fetch_all, fetch_one
from identity.oauth.tokens import pairwise_subject
from tests.identity.test_oauth_support import (
    AN,
    BINH,
    RP,
    RP_LOGOUT,
    RP_REDIRECT,
    authorize_url,
    consent,
    exchange,
    get_code,
    login_tokens,
    make_client,
    pkce,
    query_of,
    rp,
    seeded,
    sign_in,
    submit_otp,
    verify_jwt,
)

__all__ = ["rp", "seeded"]


def test_discovery_is_complete_and_truthful(client: FlaskClient) -> None:
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        meta = client.get(path).get_json()
        assert meta["issuer"] == "http://localhost"
        assert meta["authorization_endpoint"] == "http://localhost/oauth2/authorize"
        assert meta["response_types_supported"] == ["code"]
        assert meta["code_challenge_methods_supported"] == ["S256"]
        assert set(meta["grant_types_supported"]) == {
            "authorization_code",
            "refresh_token",
            "client_credentials",
        }
        assert set(meta["token_endpoint_auth_methods_supported"]) == {
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        }
        assert meta["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
        assert meta["acr_values_supported"] == ["urn:lgsp:loa:1", "urn:lgsp:loa:2"]
        assert meta["authorization_response_iss_parameter_supported"] is True
        assert meta["end_session_endpoint"] == "http://localhost/oauth2/logout"
        assert "pid" in meta["claims_supported"]


def test_jwks_publishes_public_keys_only(client: FlaskClient) -> None:
    keys = client.get("/oauth2/jwks").get_json()["keys"]
    assert {k["alg"] for k in keys} == {"ES256", "RS256"}
    for key in keys:
        assert "d" not in key and "p" not in key
        assert key["use"] == "sig" and key["kid"]


def test_code_flow_with_pkce_id_token_and_userinfo(
    client: FlaskClient, seeded: Any, rp: RP, settings: Settings, db: Database
) -> None:
    sign_in(client, *AN)
    verifier, challenge = pkce()
    first = client.get(
        authorize_url(rp, challenge=challenge, scope="openid profile email", nonce="n-123")
    )
    assert first.status_code == 200
    page = first.get_data(as_text=True)
    assert "Cổng dịch vụ công tỉnh" in page and "Họ và tên" in page
    answered = consent(client, first)
    assert answered.status_code == 302
    got = query_of(answered.headers["Location"])
    assert got["iss"] == "http://localhost"
    assert got["state"].startswith("st-")
    response = exchange(client, rp, got["code"], verifier)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert body["refresh_token"] and body["id_token"]

    id_token = verify_jwt(client, body["id_token"])
    claims = id_token.claims
    assert id_token.header["alg"] == "ES256" and id_token.header["kid"]
    assert claims["iss"] == "http://localhost" and claims["aud"] == rp.client_id
    assert claims["nonce"] == "n-123"
    assert claims["acr"] == "urn:lgsp:loa:1" and claims["amr"] == ["pwd"]
    assert claims["auth_time"] <= claims["iat"] and claims["sid"]
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert claims["at_hash"] == urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert claims["name"] == "Nguyễn Văn An" and "pid" not in claims
    with db.transaction() as conn:
        account = fetch_one(conn, "SELECT id FROM accounts WHERE pin = %s", (AN[0],))
    assert account is not None
    assert claims["sub"] == pairwise_subject(settings, "portal.example.vn", str(account["id"]))
    assert AN[0] not in claims["sub"]

    access = verify_jwt(client, body["access_token"])
    assert access.header["typ"] == "at+jwt"
    assert access.claims["aud"] == "http://localhost/api"
    assert access.claims["client_id"] == rp.client_id
    assert access.claims["scope"] == "openid profile email"
    assert access.claims["acr"] == "urn:lgsp:loa:1"

    info = client.get(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    ).get_json()
    assert info == {
        "sub": claims["sub"],
        "name": "Nguyễn Văn An",
        "birthdate": "1987-03-15",
        "gender": "male",
        "email": "an.nguyen@example.vn",
    }
    posted = client.post(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    )
    assert posted.status_code == 200

    with db.transaction() as conn:
        kinds = [r["kind"] for r in fetch_all(conn, "SELECT kind FROM auth_events ORDER BY id")]
    assert "consent.granted" in kinds and "token.issued" in kinds


def test_consent_is_remembered_and_sso_serves_a_second_app(
    client: FlaskClient, seeded: Any, rp: RP, db: Database, settings: Settings
) -> None:
    sign_in(client, *AN)
    first = login_tokens(client, rp)
    verifier, challenge = pkce()
    again = client.get(authorize_url(rp, challenge=challenge))
    assert again.status_code == 302  # no consent page the second time

    other = make_client(
        db,
        settings,
        name="Một cửa điện tử",
        redirect_uris=["https://motcua.example.vn/cb"],
        scopes=["openid", "profile"],
    )
    verifier, challenge = pkce()
    url = authorize_url(other, challenge=challenge, redirect_uri="https://motcua.example.vn/cb")
    page = client.get(url)
    assert page.status_code == 200 and "Một cửa điện tử" in page.get_data(as_text=True)
    done = consent(client, page)
    assert done.status_code == 302 and "code=" in done.headers["Location"]
    # Pairwise: the two apps see different subjects for the same person.
    code = query_of(done.headers["Location"])["code"]
    token = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://motcua.example.vn/cb",
            "code_verifier": verifier,
        },
        auth=other.auth,
    ).get_json()
    sub_one = verify_jwt(client, first["id_token"]).claims["sub"]
    sub_two = verify_jwt(client, token["id_token"]).claims["sub"]
    assert sub_one != sub_two


def test_pid_and_phone_scopes_release_their_claims(
    client: FlaskClient, seeded: Any, rp: RP
) -> None:
    sign_in(client, *AN)
    body = login_tokens(client, rp, scope="openid pid phone")
    info = client.get(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    ).get_json()
    assert info["pid"] == AN[0] and info["phone_number"] == "0912345678"
    assert "name" not in info and "email" not in info


def test_deny_consent_returns_access_denied(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *AN)
    verifier, challenge = pkce()
    page = client.get(authorize_url(rp, challenge=challenge, state="s1"))
    denied = consent(client, page, decision="deny")
    assert denied.status_code == 302
    got = query_of(denied.headers["Location"])
    assert got == {
        "error": "access_denied",
        "error_description": "The user refused.",
        "state": "s1",
        "iss": "http://localhost",
    }


def test_not_signed_in_goes_to_login_and_comes_back(
    client: FlaskClient, seeded: Any, rp: RP
) -> None:
    verifier, challenge = pkce()
    url = authorize_url(rp, challenge=challenge, login_hint=AN[0])
    response = client.get(url)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?")
    params = query_of(location)
    assert params["next"].startswith("/oauth2/authorize?")
    assert params["login_hint"] == AN[0]
    sign_in(client, *AN, next_path=params["next"])
    back = client.get(params["next"])
    assert back.status_code == 200  # the consent page


def test_prompt_none_without_session_is_login_required(client: FlaskClient, rp: RP) -> None:
    verifier, challenge = pkce()
    response = client.get(authorize_url(rp, challenge=challenge, prompt="none", state="x"))
    assert response.status_code == 302
    got = query_of(response.headers["Location"])
    assert got["error"] == "login_required" and got["state"] == "x"
    assert got["iss"] == "http://localhost"


def test_prompt_none_without_consent_is_consent_required(
    client: FlaskClient, seeded: Any, rp: RP
) -> None:
    sign_in(client, *AN)
    verifier, challenge = pkce()
    response = client.get(authorize_url(rp, challenge=challenge, prompt="none"))
    assert query_of(response.headers["Location"])["error"] == "consent_required"


def test_prompt_login_and_max_age_force_a_new_sign_in(
    client: FlaskClient, seeded: Any, rp: RP, db: Database
) -> None:
    sign_in(client, *AN)
    login_tokens(client, rp)
    verifier, challenge = pkce()
    response = client.get(authorize_url(rp, challenge=challenge, prompt="login"))
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith("/login?") and params["force"] == "1"
    sign_in(client, *AN, next_path=params["next"])
    back = client.get(params["next"])
    assert back.status_code == 302 and "code=" in back.headers["Location"]

    with db.transaction() as conn:
        conn.cursor().execute("UPDATE login_sessions SET auth_time = auth_time - interval '1 hour'")
    verifier, challenge = pkce()
    old = client.get(authorize_url(rp, challenge=challenge, max_age="600"))
    assert old.status_code == 302 and query_of(old.headers["Location"])["force"] == "1"
    fine = client.get(authorize_url(rp, challenge=challenge, max_age="7200"))
    assert fine.status_code == 302 and "code=" in fine.headers["Location"]


def test_prompt_login_needs_a_sign_in_after_the_request(
    client: FlaskClient, seeded: Any, rp: RP
) -> None:
    # Signing in and at once repeating a prompt=login request without signing in again
    # used to return a code (a sign-in up to a second older than the redirect counted).
    sign_in(client, *AN)
    for extra in ({"prompt": "login"}, {"max_age": "0"}):
        verifier, challenge = pkce()
        first = client.get(authorize_url(rp, challenge=challenge, **extra))
        assert first.status_code == 302 and first.headers["Location"].startswith("/login?")
        params = query_of(first.headers["Location"])
        assert params["force"] == "1"
        skipped = client.get(params["next"])
        assert skipped.status_code == 302, extra
        assert skipped.headers["Location"].startswith("/login?"), extra
        # The value that came back cannot be replayed on another request either.
        again = client.get(authorize_url(rp, challenge=challenge, **extra))
        assert again.headers["Location"].startswith("/login?"), extra
        params = query_of(again.headers["Location"])
        sign_in(client, *AN, next_path=params["next"])
        back = client.get(params["next"])
        if back.status_code == 200:
            back = consent(client, back)
        assert back.status_code == 302 and "code=" in back.headers["Location"], extra


def test_max_age_is_exact(client: FlaskClient, seeded: Any, rp: RP, db: Database) -> None:
    sign_in(client, *AN)
    login_tokens(client, rp)
    with db.transaction() as conn:
        conn.cursor().execute("UPDATE login_sessions SET auth_time = now() - interval '62 seconds'")
    verifier, challenge = pkce()
    old = client.get(authorize_url(rp, challenge=challenge, max_age="61"))
    assert old.status_code == 302 and query_of(old.headers["Location"])["force"] == "1"
    fine = client.get(authorize_url(rp, challenge=challenge, max_age="300"))
    assert fine.status_code == 302 and "code=" in fine.headers["Location"]


def test_step_up_to_level_two(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *BINH)  # password only: acr 1
    verifier, challenge = pkce()
    url = authorize_url(rp, challenge=challenge, acr_values="urn:lgsp:loa:2")
    response = client.get(url)
    assert response.status_code == 302
    params = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith("/login?") and params["acr"] == "2"
    stepped = client.get(response.headers["Location"])
    assert stepped.status_code == 303 and stepped.headers["Location"] == "/login/otp"
    done = submit_otp(client)
    assert done.status_code == 303
    page = client.get(done.headers["Location"])
    if page.status_code == 200:
        page = consent(client, page)
    assert page.status_code == 302
    code = query_of(page.headers["Location"])["code"]
    body = exchange(client, rp, code, verifier).get_json()
    claims = verify_jwt(client, body["id_token"]).claims
    assert claims["acr"] == "urn:lgsp:loa:2" and set(claims["amr"]) >= {"pwd", "otp"}


def test_level_one_account_is_never_silently_downgraded(
    client: FlaskClient, seeded: Any, rp: RP
) -> None:
    sign_in(client, *AN)
    verifier, challenge = pkce()
    response = client.get(authorize_url(rp, challenge=challenge, acr_values="urn:lgsp:loa:2"))
    assert response.status_code == 302
    got = query_of(response.headers["Location"])
    assert got["error"] == "unmet_authentication_requirements"


def test_acting_for_an_organization(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *BINH)
    verifier, challenge = pkce()
    page = client.get(authorize_url(rp, challenge=challenge, scope="openid organization"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "0108888888" in html
    import re

    org_id = re.search(r'name="org" value="([0-9a-f-]{36})"', html)
    assert org_id
    done = consent(client, page, org=org_id.group(1))
    assert done.status_code == 302
    code = query_of(done.headers["Location"])["code"]
    body = exchange(client, rp, code, verifier).get_json()
    expected = {
        "tax_code": "0108888888",
        "name": "Công ty TNHH Phần mềm Sông Hồng",
        "role": "representative",
    }
    assert verify_jwt(client, body["id_token"]).claims["org"] == expected
    info = client.get(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + body["access_token"]}
    ).get_json()
    assert info["org"] == expected

    # With consent remembered, the organization page alone is shown next time.
    verifier, challenge = pkce()
    again = client.get(authorize_url(rp, challenge=challenge, scope="openid organization"))
    assert again.status_code == 200 and 'value="organization"' in again.get_data(as_text=True)
    personal = consent(client, again, org="")
    code = query_of(personal.headers["Location"])["code"]
    body = exchange(client, rp, code, verifier).get_json()
    assert "org" not in verify_jwt(client, body["id_token"]).claims


def test_logout_to_registered_uri_ends_the_session(
    client: FlaskClient, seeded: Any, rp: RP, db: Database
) -> None:
    sign_in(client, *AN)
    body = login_tokens(client, rp)
    response = client.get(
        "/oauth2/logout",
        query_string={
            "id_token_hint": body["id_token"],
            "post_logout_redirect_uri": RP_LOGOUT,
            "state": "bye",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == RP_LOGOUT + "?state=bye"
    assert "lgsp_sid=;" in response.headers.get("Set-Cookie", "")
    with db.transaction() as conn:
        active = fetch_all(conn, "SELECT id FROM login_sessions WHERE ended_at IS NULL")
        revoked = fetch_all(conn, "SELECT id FROM oauth_refresh_tokens WHERE revoked_at IS NULL")
    assert active == [] and revoked == []
    # The session is gone: prompt=none now needs a login.
    verifier, challenge = pkce()
    after = client.get(authorize_url(rp, challenge=challenge, prompt="none"))
    assert query_of(after.headers["Location"])["error"] == "login_required"


def test_logout_to_unregistered_uri_shows_a_page(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *AN)
    body = login_tokens(client, rp)
    response = client.get(
        "/oauth2/logout",
        query_string={
            "id_token_hint": body["id_token"],
            "post_logout_redirect_uri": "https://evil.example.com/",
        },
    )
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "chưa được đăng ký" in response.get_data(as_text=True)


def test_logout_without_hint_asks_for_confirmation(
    client: FlaskClient, seeded: Any, rp: RP
) -> None:
    sign_in(client, *AN)
    page = client.get("/oauth2/logout")
    assert page.status_code == 200 and "csrf_token" in page.get_data(as_text=True)
    bad = client.post("/oauth2/logout", data={"confirm": "yes"})
    assert bad.status_code == 400
    from tests.identity.test_oauth_support import csrf_of

    ok = client.post(
        "/oauth2/logout",
        data={"confirm": "yes", "csrf_token": csrf_of(page.get_data(as_text=True))},
    )
    assert ok.status_code == 200 and "Bạn đã đăng xuất" in ok.get_data(as_text=True)


def test_redirect_after_code_carries_no_fragment_of_ours(
    client: FlaskClient, seeded: Any, rp: RP
) -> None:
    sign_in(client, *AN)
    got = get_code(client, rp)
    assert set(got) == {"code", "state", "iss", "verifier"}
    assert RP_REDIRECT

"""Tokens: refresh rotation and reuse, client credentials, introspection, revocation, keys."""

from __future__ import annotations

import re
import threading
import time
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from hub.config import Settings
from hub.db import Database, fetch_all, fetch_one
from identity import events, keys
from identity.oauth import store as oauth_store
from identity.oauth.tokens import InvalidTokenError, verify_access_token
from tests.identity.test_oauth_support import (
    AN,
    CUONG,
    RP,
    authorize_url,
    consent,
    csrf_of,
    exchange,
    forge,
    get_code,
    login_tokens,
    make_client,
    pkce,
    query_of,
    rp,
    seeded,
    sign_in,
    verify_jwt,
)

__all__ = ["rp", "seeded"]


def refresh(client: FlaskClient, rp: RP, token: str) -> Any:
    return client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=rp.auth,
    )


def introspect(client: FlaskClient, rp: RP, token: str) -> dict[str, Any]:
    response = client.post("/oauth2/introspect", data={"token": token}, auth=rp.auth)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def backend(db: Database, settings: Settings, **overrides: Any) -> RP:
    values: dict[str, Any] = {
        "name": "Hệ thống một cửa (back-end)",
        "grant_types": ["client_credentials"],
        "scopes": ["dataset:population", "dataset:business"],
        "redirect_uris": [],
        "post_logout_redirect_uris": [],
    }
    values.update(overrides)
    return make_client(db, settings, **values)


def test_refresh_rotates_and_reuse_revokes_the_family(
    client: FlaskClient, seeded: Any, rp: RP, db: Database
) -> None:
    sign_in(client, *AN)
    first = login_tokens(client, rp, scope="openid profile offline_access")
    second = refresh(client, rp, first["refresh_token"])
    assert second.status_code == 200, second.get_json()
    rotated = second.get_json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["scope"] == "openid profile offline_access"
    claims = verify_jwt(client, rotated["access_token"]).claims
    assert claims["acr"] == "urn:lgsp:loa:1" and claims["auth_time"]

    # The old one again: refused, and every token of the family is revoked.
    replay = refresh(client, rp, first["refresh_token"])
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    assert refresh(client, rp, rotated["refresh_token"]).status_code == 400
    assert introspect(client, rp, rotated["access_token"]) == {"active": False}
    assert introspect(client, rp, first["access_token"]) == {"active": False}
    with db.transaction() as conn:
        kinds = [r["kind"] for r in fetch_all(conn, "SELECT kind FROM auth_events")]
    assert "token.family_revoked" in kinds and "token.refreshed" in kinds


def test_narrower_scope_on_refresh(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *AN)
    first = login_tokens(client, rp, scope="openid profile email")
    narrower = client.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "scope": "openid email",
        },
        auth=rp.auth,
    )
    assert narrower.get_json()["scope"] == "openid email"
    wider = client.post(
        "/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": narrower.get_json()["refresh_token"],
            "scope": "openid pid",
        },
        auth=rp.auth,
    )
    assert wider.get_json()["error"] == "invalid_scope"


def test_two_concurrent_refreshes_cannot_both_succeed(app: Flask, seeded: Any, rp: RP) -> None:
    browser = app.test_client()
    sign_in(browser, *AN)
    token = login_tokens(browser, rp)["refresh_token"]
    results: list[int] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        with app.test_client() as own:
            barrier.wait()
            results.append(refresh(own, rp, token).status_code)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [200, 400]


def test_reused_authorization_code_fails_and_revokes_its_tokens(
    client: FlaskClient, seeded: Any, rp: RP, db: Database
) -> None:
    sign_in(client, *AN)
    got = get_code(client, rp)
    first = exchange(client, rp, got["code"], got["verifier"])
    assert first.status_code == 200
    tokens = first.get_json()
    second = exchange(client, rp, got["code"], got["verifier"])
    assert second.status_code == 400 and second.get_json()["error"] == "invalid_grant"
    assert introspect(client, rp, tokens["access_token"]) == {"active": False}
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 400
    info = client.get(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}
    )
    assert info.status_code == 401


def test_code_is_bound_to_client_redirect_uri_and_verifier(
    client: FlaskClient, seeded: Any, rp: RP, db: Database, settings: Settings
) -> None:
    sign_in(client, *AN)
    got = get_code(client, rp)
    wrong_verifier = exchange(client, rp, got["code"], "x" * 50)
    assert wrong_verifier.get_json()["error"] == "invalid_grant"
    no_verifier = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": got["code"],
            "redirect_uri": "https://portal.example.vn/callback",
        },
        auth=rp.auth,
    )
    assert no_verifier.get_json()["error"] == "invalid_request"
    wrong_uri = client.post(
        "/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": got["code"],
            "redirect_uri": "https://portal.example.vn/callback/",
            "code_verifier": got["verifier"],
        },
        auth=rp.auth,
    )
    assert wrong_uri.get_json()["error"] == "invalid_grant"
    other = make_client(db, settings, name="Other")
    stolen = exchange(client, other, got["code"], got["verifier"])
    assert stolen.get_json()["error"] == "invalid_grant"
    # The failures above rolled back: the rightful client can still redeem the code.
    assert exchange(client, rp, got["code"], got["verifier"]).status_code == 200


def test_client_credentials(client: FlaskClient, db: Database, settings: Settings) -> None:
    agency = backend(db, settings)
    response = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=agency.auth
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert "refresh_token" not in body and "id_token" not in body
    assert body["scope"] == "dataset:population dataset:business"
    claims = verify_jwt(client, body["access_token"]).claims
    assert claims["sub"] == agency.client_id and claims["client_id"] == agency.client_id
    assert "auth_time" not in claims and "acr" not in claims

    with db.transaction() as conn:
        verified = verify_access_token(conn, body["access_token"], settings=settings)
    assert verified.account_id is None and verified.sub == agency.client_id
    assert verified.scopes == frozenset({"dataset:population", "dataset:business"})

    narrow = client.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "scope": "dataset:business",
            "client_id": agency.client_id,
            "client_secret": agency.secret,
        },
    )
    assert narrow.status_code == 401  # registered for client_secret_basic, not _post
    narrow = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "dataset:business"},
        auth=agency.auth,
    )
    assert narrow.get_json()["scope"] == "dataset:business"
    for bad in ("openid", "dataset:land", "<script>"):
        refused = client.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": bad},
            auth=agency.auth,
        )
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_scope"
    wrong = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(agency.client_id, "not-the-secret"),
    )
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"
    assert events.flush(db)  # client_credentials events go through the background writer
    with db.transaction() as conn:
        issued = fetch_all(
            conn,
            "SELECT detail FROM auth_events WHERE kind = 'token.issued' AND client_id = %(c)s",
            {"c": agency.client_id},
        )
    assert len(issued) == 2
    assert {e["detail"]["jti"] for e in issued} >= {claims["jti"], verified.jti}
    assert all(e["detail"]["grant_type"] == "client_credentials" for e in issued)


def test_the_grant_type_is_read_once_query_string_first(
    client: FlaskClient, db: Database, settings: Settings
) -> None:
    # The view chooses autocommit for client_credentials by reading grant_type the way
    # Authlib does: a code exchange in disguise must not run without its transaction.
    agency = backend(db, settings)
    response = client.post(
        "/oauth2/token?grant_type=authorization_code",
        data={"grant_type": "client_credentials"},
        auth=agency.auth,
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "unauthorized_client"
    assert events.flush(db)
    with db.transaction() as conn:
        issued = fetch_all(
            conn, "SELECT 1 FROM auth_events WHERE client_id = %(c)s", {"c": agency.client_id}
        )
    assert issued == []


def test_client_secret_post(client: FlaskClient, db: Database, settings: Settings) -> None:
    agency = backend(db, settings, auth_method="client_secret_post")
    response = client.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": agency.client_id,
            "client_secret": agency.secret,
        },
    )
    assert response.status_code == 200


def test_client_not_allowed_a_grant(client: FlaskClient, seeded: Any, rp: RP) -> None:
    response = client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=rp.auth)
    assert response.get_json()["error"] == "unauthorized_client"
    response = client.post("/oauth2/token", data={"grant_type": "password"}, auth=rp.auth)
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_introspection_and_revocation(
    client: FlaskClient, seeded: Any, rp: RP, db: Database, settings: Settings
) -> None:
    sign_in(client, *AN)
    tokens = login_tokens(client, rp, scope="openid profile")
    resource = backend(db, settings)
    active = introspect(client, resource, tokens["access_token"])
    assert active["active"] is True and active["client_id"] == rp.client_id
    assert active["scope"] == "openid profile" and active["token_type"] == "Bearer"
    # Another client's refresh token is not for a resource server to look into.
    assert introspect(client, resource, tokens["refresh_token"]) == {"active": False}
    own = introspect(client, rp, tokens["refresh_token"])
    assert own["active"] is True and own["client_id"] == rp.client_id
    assert introspect(client, resource, "garbage") == {"active": False}

    # Only the owner may revoke.
    other = client.post(
        "/oauth2/revoke", data={"token": tokens["access_token"]}, auth=resource.auth
    )
    assert other.status_code == 400
    assert introspect(client, resource, tokens["access_token"])["active"] is True
    done = client.post("/oauth2/revoke", data={"token": tokens["access_token"]}, auth=rp.auth)
    assert done.status_code == 200
    assert introspect(client, resource, tokens["access_token"]) == {"active": False}
    info = client.get(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}
    )
    assert info.status_code == 401 and info.get_json()["error"] == "invalid_token"
    with db.transaction() as conn:
        try:
            verify_access_token(conn, tokens["access_token"], settings=settings)
        except InvalidTokenError as exc:
            assert "revoked" in exc.detail
        else:
            raise AssertionError("a revoked token was accepted")

    revoke_rt = client.post(
        "/oauth2/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=rp.auth,
    )
    assert revoke_rt.status_code == 200
    assert refresh(client, rp, tokens["refresh_token"]).status_code == 400
    unauthenticated = client.post("/oauth2/introspect", data={"token": tokens["access_token"]})
    assert unauthenticated.status_code == 401


def test_introspection_sees_a_revocation_by_another_process_within_a_second(
    client: FlaskClient, db: Database, settings: Settings, monkeypatch: Any
) -> None:
    monkeypatch.setattr(oauth_store, "NOT_DENIED_TTL", 0.3)
    agency = backend(db, settings)
    token = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=agency.auth
    ).get_json()["access_token"]
    assert introspect(client, agency, token)["active"] is True
    jti = verify_jwt(client, token).claims["jti"]
    # Another hub process revokes it: straight into the database, unseen by this one.
    with db.transaction() as conn:
        conn.cursor().execute(
            "INSERT INTO oauth_revoked_jtis (jti, expires_at)"
            " VALUES (%s, now() + interval '1 hour')",
            (jti,),
        )
    assert introspect(client, agency, token)["active"] is True  # remembered "not revoked"
    time.sleep(0.35)
    assert introspect(client, agency, token) == {"active": False}
    # A denial is never remembered as "not denied" again.
    assert introspect(client, agency, token) == {"active": False}


def test_key_rotation_keeps_old_tokens_verifiable(
    client: FlaskClient, seeded: Any, rp: RP, db: Database, settings: Settings
) -> None:
    sign_in(client, *AN)
    before = login_tokens(client, rp)
    old_kid = verify_jwt(client, before["access_token"]).header["kid"]
    with db.transaction() as conn:
        new_kids = keys.rotate(conn, settings=settings)
    assert old_kid not in new_kids
    published = {k["kid"] for k in client.get("/oauth2/jwks").get_json()["keys"]}
    assert old_kid in published and set(new_kids) <= published
    after = login_tokens(client, rp)
    assert verify_jwt(client, after["access_token"]).header["kid"] in new_kids
    info = client.get(
        "/oauth2/userinfo", headers={"Authorization": "Bearer " + before["access_token"]}
    )
    assert info.status_code == 200
    with db.transaction() as conn:
        row = fetch_one(
            conn,
            "SELECT expires_at - retired_at AS keep FROM signing_keys WHERE kid = %s",
            (old_kid,),
        )
        stored = fetch_one(
            conn, "SELECT private_jwk_enc FROM signing_keys WHERE kid = %s", (old_kid,)
        )
    assert row is not None and row["keep"].total_seconds() >= 600
    assert stored is not None and '"d"' not in stored["private_jwk_enc"]


def test_rs256_per_client(
    client: FlaskClient, seeded: Any, db: Database, settings: Settings
) -> None:
    rsa_rp = make_client(db, settings, id_token_signed_response_alg="RS256")
    sign_in(client, *AN)
    body = login_tokens(client, rsa_rp)
    assert verify_jwt(client, body["id_token"]).header["alg"] == "RS256"


def _private_key_client(db: Database, settings: Settings, key: ECKey | RSAKey) -> RP:
    public = key.as_dict(private=False)
    public["kid"] = "k1"
    return backend(db, settings, auth_method="private_key_jwt", jwks={"keys": [public]})


def _assertion(rp: RP, key: Any, *, alg: str = "ES256", **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": rp.client_id,
        "sub": rp.client_id,
        "aud": "http://localhost/oauth2/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    body.update(claims)
    return jwt.encode({"alg": alg, "kid": "k1"}, body, key, algorithms=[alg])


def _pkjwt_token(client: FlaskClient, assertion: str) -> Any:
    return client.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )


def test_private_key_jwt(client: FlaskClient, db: Database, settings: Settings) -> None:
    key = ECKey.generate_key("P-256")
    agency = _private_key_client(db, settings, key)
    assertion = _assertion(agency, key)
    ok = _pkjwt_token(client, assertion)
    assert ok.status_code == 200, ok.get_json()
    replay = _pkjwt_token(client, assertion)
    assert replay.status_code in (400, 401) and replay.get_json()["error"] == "invalid_client"
    issuer_aud = _pkjwt_token(client, _assertion(agency, key, aud="http://localhost"))
    assert issuer_aud.status_code == 200
    for bad in (
        _assertion(agency, key, aud="http://elsewhere/token"),
        _assertion(agency, key, exp=int(time.time()) + 3600),
        _assertion(agency, key, exp=int(time.time()) - 120, iat=int(time.time()) - 180),
        _assertion(agency, ECKey.generate_key("P-256")),
        _assertion(agency, key, sub="someone-else"),
        "not.a.jwt",
    ):
        refused = _pkjwt_token(client, bad)
        assert refused.status_code in (400, 401), refused.get_json()
        assert refused.get_json()["error"] == "invalid_client"
    # HS256 "signed" with the registered public key is not an allowed algorithm.
    forged = forge(
        {"alg": "HS256", "kid": "k1"},
        {
            "iss": agency.client_id,
            "sub": agency.client_id,
            "aud": "http://localhost",
            "iat": int(time.time()),
            "exp": int(time.time()) + 60,
            "jti": "x1",
        },
        hmac_key=key.as_pem(private=False),
    )
    assert _pkjwt_token(client, forged).get_json()["error"] == "invalid_client"


def test_private_key_jwt_rsa_ps256(client: FlaskClient, db: Database, settings: Settings) -> None:
    key = RSAKey.generate_key(2048)
    agency = _private_key_client(db, settings, key)
    ok = _pkjwt_token(client, _assertion(agency, key, alg="PS256"))
    assert ok.status_code == 200, ok.get_json()
    bad = _pkjwt_token(client, _assertion(agency, key, alg="RS384"))
    assert bad.get_json()["error"] == "invalid_client"


def test_jwks_keyset_shape(client: FlaskClient) -> None:
    assert len(KeySet.import_key_set(client.get("/oauth2/jwks").get_json()).keys) == 2


def test_signing_gives_what_joserfc_would(conn: Any, settings: Settings) -> None:
    keys.ensure_keys(conn, settings=settings)
    ring = keys.ring(conn, settings, refresh=True)
    claims = {"iss": "http://localhost", "sub": "Nguyễn", "iat": 1, "exp": 2, "scope": "a b"}
    for alg in keys.SIGNING_ALGORITHMS:
        kid, key = ring.signing[alg]
        ours = keys.sign(conn, settings, dict(claims), alg=alg, typ="at+jwt")
        header = {"alg": alg, "kid": kid, "typ": "at+jwt"}
        theirs = jwt.encode(header, claims, key, algorithms=[alg])
        if alg == "RS256":  # deterministic: the same bytes
            assert ours == theirs
        else:  # ECDSA signatures are randomised: the same header and payload, a valid signature
            assert ours.rsplit(".", 1)[0] == theirs.rsplit(".", 1)[0]
        decoded = jwt.decode(ours, ring.public[kid], algorithms=[alg])
        assert decoded.header == {"typ": "at+jwt", "alg": alg, "kid": kid}
        assert decoded.claims == claims


def _active_sessions(db: Database) -> set[str]:
    with db.transaction() as conn:
        rows = fetch_all(conn, "SELECT id FROM login_sessions WHERE ended_at IS NULL")
    return {str(row["id"]) for row in rows}


def _end(how: str, browser: FlaskClient, other: FlaskClient, session_id: str) -> None:
    """End ``browser``'s sign-in (``session_id``) the way ``how`` names; ``other`` is a
    second signed-in browser of the same person."""
    if how == "logout":
        token = csrf_of(browser.get("/account").get_data(as_text=True))
        assert browser.post("/logout", data={"csrf_token": token}).status_code == 200
    elif how == "sign out everywhere":
        token = csrf_of(other.get("/account/sessions").get_data(as_text=True))
        assert (
            other.post("/account/sessions/end-all", data={"csrf_token": token}).status_code == 200
        )
    elif how == "sign out of that session":
        token = csrf_of(other.get("/account/sessions").get_data(as_text=True))
        response = other.post(
            "/account/sessions/end", data={"csrf_token": token, "session_id": session_id}
        )
        assert response.status_code == 303
    else:  # a password change in the other browser ends every other sign-in
        token = csrf_of(other.get("/account/password").get_data(as_text=True))
        response = other.post(
            "/account/password",
            data={
                "csrf_token": token,
                "current_password": AN[1],
                "new_password": "Mật-khẩu-mới-2026",
                "confirm_password": "Mật-khẩu-mới-2026",
            },
        )
        assert response.status_code == 303, response.get_data(as_text=True)


@pytest.mark.parametrize(
    "how", ["logout", "sign out everywhere", "sign out of that session", "password change"]
)
def test_ending_a_sign_in_revokes_its_apps_tokens_but_offline_ones(
    how: str, app: Flask, client: FlaskClient, seeded: Any, rp: RP, db: Database
) -> None:
    sign_in(client, *AN)
    (session_id,) = _active_sessions(db)
    online = login_tokens(client, rp)
    offline = login_tokens(client, rp, scope="openid profile offline_access")
    assert "refresh_token" in online and "refresh_token" in offline
    other = app.test_client()
    sign_in(other, *AN)
    kept = login_tokens(other, rp)  # the other browser's own app sign-in

    _end(how, client, other, session_id)

    assert session_id not in _active_sessions(db)
    refused = refresh(client, rp, online["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    assert introspect(client, rp, online["access_token"])["active"] is False
    assert refresh(client, rp, offline["refresh_token"]).status_code == 200
    survives = how in ("logout", "sign out of that session", "password change")
    assert (refresh(other, rp, kept["refresh_token"]).status_code == 200) is survives


def test_access_tokens_carry_amr(client: FlaskClient, seeded: Any, rp: RP) -> None:
    sign_in(client, *AN)
    tokens = login_tokens(client, rp)
    assert verify_jwt(client, tokens["access_token"]).claims["amr"] == ["pwd"]
    renewed = refresh(client, rp, tokens["refresh_token"]).get_json()
    assert verify_jwt(client, renewed["access_token"]).claims["amr"] == ["pwd"]


def test_refresh_drops_an_ended_organization_membership(
    client: FlaskClient, seeded: Any, rp: RP, db: Database
) -> None:
    # Cường is staff of the demo organization, authorised by its representative.
    sign_in(client, *CUONG)
    verifier, challenge = pkce()
    page = client.get(
        authorize_url(rp, challenge=challenge, scope="openid organization offline_access")
    )
    org_id = re.search(r'name="org" value="([0-9a-f-]{36})"', page.get_data(as_text=True))
    assert page.status_code == 200 and org_id
    done = consent(client, page, org=org_id.group(1))
    code = query_of(done.headers["Location"])["code"]
    acting = exchange(client, rp, code, verifier).get_json()
    claims = verify_jwt(client, acting["access_token"]).claims
    assert claims["org"]["tax_code"] == "0108888888" and claims["org"]["role"] == "staff"
    renewed = refresh(client, rp, acting["refresh_token"])
    assert renewed.status_code == 200
    assert verify_jwt(client, renewed.get_json()["access_token"]).claims["org"] == claims["org"]
    with db.transaction() as conn:
        conn.cursor().execute(
            "UPDATE organization_members SET expires_at = now() - interval '1 minute'"
            " WHERE role = 'staff'"
        )
    # A token issued for acting for the organization is refused, not quietly narrowed.
    refused = refresh(client, rp, renewed.get_json()["refresh_token"])
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    with db.transaction() as conn:
        kinds = [r["kind"] for r in fetch_all(conn, "SELECT kind FROM auth_events")]
    assert "token.refused" in kinds

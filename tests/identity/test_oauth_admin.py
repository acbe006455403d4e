"""Consents on /account, and the ``lgsp clients`` / ``lgsp keys`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from joserfc.jwk import ECKey

from hub.db import Database, fetch_all, fetch_one
from tests.conftest import cli_env
from tests.identity.test_oauth_support import (
    AN,
    RP,
    authorize_url,
    csrf_of,
    login_tokens,
    pkce,
    rp,
    seeded,
    sign_in,
)

__all__ = ["rp", "seeded"]
SECRET = "cli-test-secret-" + "z" * 32


def lgsp(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_consent_is_listed_and_revocable_on_the_account_page(
    client: FlaskClient, seeded: Any, rp: RP, db: Database
) -> None:
    sign_in(client, *AN)
    tokens = login_tokens(client, rp, scope="openid profile email")
    page = client.get("/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Cổng dịch vụ công tỉnh" in html
    assert "Thư điện tử" in html or "thư điện tử" in html
    revoke = client.post(
        "/account/apps/revoke", data={"client_id": rp.client_id, "csrf_token": csrf_of(html)}
    )
    assert revoke.status_code == 303
    refreshed = client.post(
        "/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=rp.auth,
    )
    assert refreshed.status_code == 400
    verifier, challenge = pkce()
    again = client.get(authorize_url(rp, challenge=challenge))
    assert again.status_code == 200  # consent is asked again
    with db.transaction() as conn:
        assert fetch_all(conn, "SELECT * FROM oauth_consents") == []
        kinds = {r["kind"] for r in fetch_all(conn, "SELECT kind FROM auth_events")}
    assert "consent.revoked" in kinds
    no_csrf = client.post("/account/apps/revoke", data={"client_id": rp.client_id})
    assert no_csrf.status_code == 400


def test_cli_clients_create_and_list(db_url: str, db: Database, tmp_path: Path) -> None:
    env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY=SECRET)
    made = lgsp(
        "clients",
        "create",
        "--name",
        "Cổng DVC",
        "--grant-type",
        "authorization_code",
        "--grant-type",
        "refresh_token",
        "--scope",
        "openid",
        "--scope",
        "profile pid",
        "--redirect-uri",
        "https://dvc.example.vn/cb",
        "--post-logout-redirect-uri",
        "https://dvc.example.vn/",
        "--json",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    body = json.loads(made.stdout)
    assert body["client_id"] and len(body["client_secret"]) >= 43
    assert body["scope"] == "openid profile pid"
    with db.transaction() as conn:
        row = fetch_one(
            conn,
            "SELECT secret_hash, sector FROM oauth_clients WHERE id = %s",
            (body["client_id"],),
        )
    assert row is not None and body["client_secret"] not in row["secret_hash"]
    assert row["sector"] == "dvc.example.vn"

    public = lgsp(
        "clients",
        "create",
        "--name",
        "SPA",
        "--grant-type",
        "authorization_code",
        "--scope",
        "openid",
        "--redirect-uri",
        "http://127.0.0.1:3000/cb",
        "--auth-method",
        "none",
        "--json",
        env=env,
    )
    assert public.returncode == 0 and "client_secret" not in json.loads(public.stdout)

    key = ECKey.generate_key("P-256").as_dict(private=False)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key]}))
    pk = lgsp(
        "clients",
        "create",
        "--name",
        "Back-end",
        "--grant-type",
        "client_credentials",
        "--scope",
        "dataset:population",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        str(jwks_file),
        "--json",
        env=env,
    )
    assert pk.returncode == 0, pk.stderr

    bad = lgsp(
        "clients",
        "create",
        "--name",
        "X",
        "--grant-type",
        "authorization_code",
        "--scope",
        "openid",
        "--json",
        env=env,
    )
    assert bad.returncode == 1 and "redirect URI" in bad.stderr
    bad = lgsp(
        "clients",
        "create",
        "--name",
        "X",
        "--grant-type",
        "client_credentials",
        "--scope",
        "bogus",
        env=env,
    )
    assert bad.returncode == 1 and "Unknown scope" in bad.stderr

    listed = lgsp("clients", "list", "--json", env=env)
    assert listed.returncode == 0
    assert {c["client_name"] for c in json.loads(listed.stdout)} == {"Cổng DVC", "SPA", "Back-end"}


def test_cli_keys_rotate(db_url: str, db: Database, tmp_path: Path) -> None:
    env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY=SECRET)
    first = lgsp("keys", "rotate", "--json", env=env)
    assert first.returncode == 0, first.stderr
    second = lgsp("keys", "rotate", "--json", env=env)
    kids = json.loads(second.stdout)["active"]
    with db.transaction() as conn:
        rows = fetch_all(conn, "SELECT kid, retired_at FROM signing_keys")
    active = {r["kid"] for r in rows if r["retired_at"] is None}
    assert active == set(kids) and len(rows) == 4
    listed = lgsp("keys", "list", env=env)
    assert listed.returncode == 0 and "retired" in listed.stdout

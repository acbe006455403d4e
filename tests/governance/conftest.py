"""Fixtures for governance: the hub enforcing grants over the demo ministries, real tokens."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.config import Settings
from hub.datasets.service import DatasetRuntime, load_demo_datasets
from hub.db import Database, fetch_all
from hub.governance import service
from hub.governance.models import Principal
from hub.governance.policy import GovernancePolicy
from identity import demo_seed, keys
from identity.accounts import store as accounts_store
from identity.oauth import clients, tokens
from identity.oauth import store as oauth_store
from identity.oauth.models import GrantUser
from tests.datasets.conftest import AN, PURPOSE, ministries

__all__ = ["AN", "PURPOSE", "ministries"]

OPERATOR = Principal.operator("test")
ALL_SCOPES = ("dataset:dan-cu", "dataset:doanh-nghiep", "dataset:bao-hiem-xa-hoi")
AN_PIN = "001087012345"
OTHER_PIN = "079301234567"  # Trần Thị Bình in the population registry
OTHER = {"so_dinh_danh": OTHER_PIN, "ho_va_ten": "Trần Thị Bình", "ngay_sinh": "2001-07-02"}
BUSINESS_TAX_CODE = "0108888888"  # known to the demo business registry


@pytest.fixture
def gov(app: Flask, db: Database, settings: Settings, ministries: Any) -> Flask:
    """The hub with the demo datasets, enforcing grants and auditing every query."""
    with db.transaction() as conn:
        load_demo_datasets(conn, overrides=ministries.env)
    app.extensions["lgsp.datasets"] = DatasetRuntime(
        env=ministries.env, policy=GovernancePolicy(db, settings)
    )
    return app


@pytest.fixture
def api(gov: Flask) -> FlaskClient:
    """An HTTP client of the governed hub."""
    return gov.test_client()


@dataclass
class App:
    """An agency app registered with the hub: it can get client-credentials tokens."""

    client_id: str
    secret: str
    http: FlaskClient

    def token(self, *scopes: str) -> str:
        basic = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        response = self.http.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": " ".join(scopes or ALL_SCOPES)},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        token: str = response.get_json()["access_token"]
        return token


AppFactory = Callable[..., App]


@pytest.fixture
def make_app(gov: Flask, db: Database, settings: Settings) -> AppFactory:
    """Register an agency app (client credentials and authorization code)."""

    def register(name: str = "Một cửa điện tử") -> App:
        with db.transaction() as conn:
            client, secret = clients.register_client(
                conn,
                settings=settings,
                name=name,
                grant_types=["client_credentials", "authorization_code"],
                scopes=["openid", "profile", "organization", *ALL_SCOPES],
                redirect_uris=["https://app.example.vn/callback"],
                auth_method="client_secret_basic",
            )
        assert secret
        return App(client.client_id, secret, gov.test_client())

    return register


@pytest.fixture
def agency(make_app: AppFactory) -> App:
    """One registered agency app."""
    return make_app()


@pytest.fixture
def people(db: Database) -> dict[str, str]:
    """The demo accounts (identity.demo_seed) by key → account id; An is in the registry."""
    with db.transaction() as conn:
        demo_seed.seed(conn)
        ids = {}
        for person in demo_seed.CITIZENS:
            account = accounts_store.find_by_pin(conn, person["pin"])
            assert account is not None
            ids[person["key"]] = account.id
    return ids


def user_token(
    db: Database,
    settings: Settings,
    client_id: str,
    account_id: str,
    scope: str,
    *,
    acr: int = 1,
    org: dict[str, Any] | None = None,
) -> str:
    """An access token as the authorization-code flow issues it for a signed-in person."""
    with db.transaction() as conn:
        keys.ensure_keys(conn, settings=settings)
    with db.transaction() as conn:
        client = clients.find(conn, client_id, settings=settings)
        assert client is not None
        sub = tokens.pairwise_subject(settings, client.sector, account_id)
        oauth_store.remember_subject(conn, sub=sub, sector=client.sector, account_id=account_id)
        user = GrantUser(
            account_id=account_id,
            sub=sub,
            session_id=None,
            auth_time=int(time.time()),
            acr=acr,
            amr=("pwd",),
            org=org,
        )
        token, _, _ = tokens.issue_access_token(
            conn, settings, client=client, user=user, scope=scope
        )
    return token


def grant(db: Database, settings: Settings, client_id: str, dataset_id: str, **kw: Any) -> Any:
    """Create a grant as the operator."""
    with db.transaction() as conn:
        return service.grant_access(
            conn,
            actor=OPERATOR,
            settings=settings,
            client_id=client_id,
            dataset_id=dataset_id,
            **kw,
        )


def query(
    api: FlaskClient,
    dataset: str,
    params: Any,
    *,
    token: str,
    purpose: str | None = PURPOSE,
    **headers: str,
) -> Any:
    """POST /api/v1/datasets/{dataset}/query."""
    sent = {"Authorization": f"Bearer {token}", **headers}
    if purpose is not None:
        sent["X-Purpose"] = purpose
    return api.post(f"/api/v1/datasets/{dataset}/query", json={"params": params}, headers=sent)


def audit_rows(db: Database, kind: str = "data.query") -> list[dict[str, Any]]:
    """The audit records of a kind, in order."""
    with db.transaction() as conn:
        rows = fetch_all(
            conn, "SELECT content FROM audit_log WHERE kind = %s ORDER BY seq", (kind,)
        )
    return [json.loads(row["content"]) for row in rows]


STAFF = {
    "admin": ("001080000101", "Phạm Quản Trị", ("admin",), None),
    "owner": ("001081000102", "Đỗ Chủ Dữ Liệu", ("data_owner",), "C06"),
    "other_owner": ("001082000103", "Vũ Chủ Khác", ("data_owner",), "BKHDT-DKKD"),
    "auditor": ("001083000104", "Hoàng Kiểm Toán", ("auditor",), None),
    "developer": ("001084000105", "Lý Lập Trình", ("developer",), None),
}


@pytest.fixture
def staff(db: Database, settings: Settings, agency: App) -> dict[str, str]:
    """An admin, two data owners (C06 and BKHDT-DKKD), an auditor and the agency's developer."""
    from datetime import date

    from identity.accounts import service as accounts_service

    ids: dict[str, str] = {}
    with db.transaction() as conn:
        for key, (pin, name, roles, agency_code) in STAFF.items():
            year = 1980 + int(pin[5])
            account = accounts_service.create_citizen(
                conn,
                pin=pin,
                full_name=name,
                birth_date=date(year, 1, 1),
                sex="male",
                password="Staff@demo2025",
                level=2,
            )
            for role in roles:
                service.assign_role(
                    conn,
                    actor=OPERATOR,
                    settings=settings,
                    account_id=account.id,
                    role=role,
                    agency_code=agency_code,
                )
            ids[key] = account.id
        service.add_client_developer(
            conn,
            actor=OPERATOR,
            settings=settings,
            client_id=agency.client_id,
            account_id=ids["developer"],
        )
    return ids


@pytest.fixture
def bearer(db: Database, settings: Settings, agency: App) -> Callable[..., dict[str, str]]:
    """Authorization headers with a signed-in person's token (acr 2 unless told)."""

    def headers(account_id: str, *, acr: int = 2) -> dict[str, str]:
        token = user_token(db, settings, agency.client_id, account_id, "openid governance", acr=acr)
        return {"Authorization": f"Bearer {token}"}

    return headers


def seed_calls(api: FlaskClient, agency: App, db: Database, settings: Settings) -> None:
    """Two answered queries of the agency (about An and another citizen) and one refused."""
    grant(db, settings, agency.client_id, "dan-cu", purposes=["1.001234"])
    token = agency.token()
    assert query(api, "dan-cu", AN, token=token).status_code == 200
    assert query(api, "dan-cu", OTHER, token=token).status_code == 200
    assert query(api, "dan-cu", AN, token=token, purpose="2.000046").status_code == 403

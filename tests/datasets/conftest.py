"""Fixtures for the shared-data API: demo ministries, loaded datasets, real hub tokens."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connectors.demo.server import DemoMinistries, start_demo_ministries
from hub.config import Settings
from hub.datasets.service import DatasetRuntime, load_demo_datasets
from hub.db import Database
from identity.oauth import clients

PURPOSE = "1.001234"
AN = {"so_dinh_danh": "001087012345", "ho_va_ten": "Nguyễn Văn An", "ngay_sinh": "1987-03-15"}


@pytest.fixture(scope="session")
def ministries() -> Iterator[DemoMinistries]:
    """The demo population (SOAP), business (REST) and insurance (SOAP 1.2) ministries."""
    running = start_demo_ministries()
    yield running
    running.stop()


@pytest.fixture
def hub(app: Flask, db: Database, ministries: DemoMinistries) -> Flask:
    """The hub with the demo datasets loaded and connectors reading the ministries' env."""
    with db.transaction() as conn:
        load_demo_datasets(conn, overrides=ministries.env)
    app.extensions["lgsp.datasets"] = DatasetRuntime(env=ministries.env)
    return app


@pytest.fixture
def api(hub: Flask) -> FlaskClient:
    """An HTTP client of the hub with the demo datasets."""
    return hub.test_client()


TokenFactory = Callable[..., str]


@pytest.fixture
def token_for(hub: Flask, db: Database, settings: Settings) -> TokenFactory:
    """Issue a real access token through /oauth2/token (client credentials) with scopes."""
    client = hub.test_client()

    def issue(*scopes: str) -> str:
        with db.transaction() as conn:
            registered, secret = clients.register_client(
                conn,
                settings=settings,
                name="Test agency app",
                grant_types=["client_credentials"],
                scopes=list(scopes),
                auth_method="client_secret_basic",
            )
        basic = base64.b64encode(f"{registered.client_id}:{secret}".encode()).decode()
        response = client.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
            headers={"Authorization": f"Basic {basic}"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        token: str = response.get_json()["access_token"]
        return token

    return issue


def query(
    api: FlaskClient,
    dataset: str,
    params: Any,
    *,
    token: str | None,
    purpose: str | None = PURPOSE,
    **headers: str,
) -> Any:
    """POST /api/v1/datasets/{dataset}/query with the usual headers."""
    sent = dict(headers)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if purpose is not None:
        sent["X-Purpose"] = purpose
    return api.post(f"/api/v1/datasets/{dataset}/query", json={"params": params}, headers=sent)

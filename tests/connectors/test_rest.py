"""REST datasets against the demo business registry (werkzeug) on an ephemeral port."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from connectors import (
    BreakerRegistry,
    Context,
    DefinitionError,
    InvalidParamsError,
    UpstreamFaultError,
    build_connector,
)
from connectors.demo.business import BusinessRegistryApp
from connectors.demo.server import DemoMinistries, serve_app
from tests.connectors.conftest import FakeClock, dataset

SONG_HONG = {"ma_so_thue": "0108888888"}


def test_business_found(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = build_connector(dataset("doanh-nghiep"), env=ministries.env, breakers=breakers)
    result = connector.fetch(SONG_HONG, ctx)
    assert result.found and result.record is not None
    r = result.record
    assert r["name"] == "Công ty TNHH Phần mềm Sông Hồng"
    assert r["legal_form"] == "multi_member_llc"
    assert r["status"] == "active"
    assert r["founding_date"] == "2015-06-01"
    assert r["charter_capital"] == 5_000_000_000
    assert r["main_business"] == {"code": "6201", "name": "Lập trình máy vi tính"}
    assert r["representatives"] == [
        {
            "full_name": "TRẦN THỊ BÌNH",
            "sex": "female",
            "birth_date": "2001-07-02",
            "nationality": "Việt Nam",
            "id_number": "079301234567",
            "id_document": "Căn cước công dân",
        }
    ]
    sent = ministries.business_app.requests[-1]
    assert sent["X-Purpose"] == "1.001234" and sent["X-Request-Id"] == "req-0001"


def test_unknown_valid_tax_code_is_no_data(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = build_connector(dataset("doanh-nghiep"), env=ministries.env, breakers=breakers)
    result = connector.fetch({"ma_so_thue": "0107777776"}, ctx)
    assert (result.found, result.record) == (False, None)


def test_a_wrong_check_digit_is_refused_before_the_call(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = build_connector(dataset("doanh-nghiep"), env=ministries.env, breakers=breakers)
    calls = len(ministries.business_app.requests)
    with pytest.raises(InvalidParamsError) as info:
        connector.fetch({"ma_so_thue": "0108888880"}, ctx)
    assert "check digit" in info.value.errors["ma_so_thue"][0]
    assert len(ministries.business_app.requests) == calls


def test_registry_rejection_is_a_fault(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    # Without the definition's check, the registry's own refusal is an upstream fault.
    definition = dataset("doanh-nghiep")
    unchecked = dataclasses.replace(
        definition,
        params=tuple(dataclasses.replace(p, check=None) for p in definition.params),
    )
    connector = build_connector(unchecked, env=ministries.env, breakers=breakers)
    with pytest.raises(UpstreamFaultError) as info:
        connector.fetch({"ma_so_thue": "0108888880"}, ctx)
    assert info.value.fault_code == "MST_KHONG_HOP_LE"


def test_wrong_api_key(ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context) -> None:
    env = {**ministries.env, "LGSP_DEMO_BUSINESS_API_KEY": "wrong"}
    connector = build_connector(dataset("doanh-nghiep"), env=env, breakers=breakers)
    with pytest.raises(UpstreamFaultError) as info:
        connector.fetch(SONG_HONG, ctx)
    assert info.value.fault_code == "UNAUTHORIZED"


def test_missing_api_key_env(ministries: DemoMinistries, breakers: BreakerRegistry) -> None:
    env = {k: v for k, v in ministries.env.items() if k != "LGSP_DEMO_BUSINESS_API_KEY"}
    with pytest.raises(DefinitionError, match="upstream.auth.key_env: environment variable"):
        build_connector(dataset("doanh-nghiep"), env=env, breakers=breakers)


@pytest.fixture
def basic_registry() -> Iterator[str]:
    server = serve_app(BusinessRegistryApp(basic=("hub", "s3cret")))
    yield server.base_url
    server.stop()


def test_basic_auth(basic_registry: str, breakers: BreakerRegistry, ctx: Context) -> None:
    definition = dataset(
        "doanh-nghiep",
        upstream__auth={"type": "basic", "username_env": "DKKD_USER", "password_env": "DKKD_PASS"},
    )
    env = {"LGSP_DEMO_BUSINESS_URL": basic_registry, "DKKD_USER": "hub", "DKKD_PASS": "s3cret"}
    assert build_connector(definition, env=env, breakers=breakers).fetch(SONG_HONG, ctx).found
    env["DKKD_PASS"] = "nope"
    with pytest.raises(UpstreamFaultError):
        build_connector(definition, env=env, breakers=breakers).fetch(SONG_HONG, ctx)


@pytest.fixture
def oauth_registry() -> Iterator[tuple[str, BusinessRegistryApp]]:
    app = BusinessRegistryApp(oauth_client=("lgsp-hub", "client-secret"), token_lifetime=120)
    server = serve_app(app)
    yield server.base_url, app
    server.stop()


def test_oauth2_client_credentials_token_is_cached(
    oauth_registry: tuple[str, BusinessRegistryApp],
    breakers: BreakerRegistry,
    ctx: Context,
    clock: FakeClock,
) -> None:
    base, app = oauth_registry
    definition = dataset(
        "doanh-nghiep",
        upstream__auth={
            "type": "oauth2_client_credentials",
            "token_url": "${DKKD_TOKEN_URL}",
            "client_id_env": "DKKD_CLIENT_ID",
            "client_secret_env": "DKKD_CLIENT_SECRET",
            "scope": "doanh-nghiep.read",
        },
    )
    env = {
        "LGSP_DEMO_BUSINESS_URL": base,
        "DKKD_TOKEN_URL": f"{base}/oauth/token",
        "DKKD_CLIENT_ID": "lgsp-hub",
        "DKKD_CLIENT_SECRET": "client-secret",
    }
    connector = build_connector(definition, env=env, breakers=breakers, clock=clock)
    assert connector.fetch(SONG_HONG, ctx).found
    assert connector.fetch(SONG_HONG, ctx).found
    assert app.token_requests == 1
    clock.advance(200)  # past expires_in: a new token is fetched
    assert connector.fetch(SONG_HONG, ctx).found
    assert app.token_requests == 2
    app.revoke_tokens()  # refused token: fetched again once, transparently
    assert connector.fetch(SONG_HONG, ctx).found
    assert app.token_requests == 3


def test_oauth2_bad_client_secret(
    oauth_registry: tuple[str, BusinessRegistryApp], breakers: BreakerRegistry, ctx: Context
) -> None:
    base, _ = oauth_registry
    definition = dataset(
        "doanh-nghiep",
        upstream__auth={
            "type": "oauth2_client_credentials",
            "token_url": f"{base}/oauth/token",
            "client_id_env": "ID",
            "client_secret_env": "SECRET",
        },
    )
    env = {"LGSP_DEMO_BUSINESS_URL": base, "ID": "lgsp-hub", "SECRET": "wrong"}
    with pytest.raises(UpstreamFaultError) as info:
        build_connector(definition, env=env, breakers=breakers).fetch(SONG_HONG, ctx)
    assert info.value.fault_code == "invalid_client"


def test_path_parameters_cannot_escape_the_path(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    definition = dataset("doanh-nghiep", params={"ma_so_thue": {"type": "string"}})
    connector = build_connector(definition, env=ministries.env, breakers=breakers)
    assert not connector.fetch({"ma_so_thue": "../../oauth/token"}, ctx).found
    assert "%2F" in connector.client._url({"ma_so_thue": "../x"})  # type: ignore[attr-defined]

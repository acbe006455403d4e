"""Every fault of issue 4 against real local servers: typed error, within the time budget."""

from __future__ import annotations

import time

import pytest

from connectors import (
    BreakerRegistry,
    ConnectorError,
    Context,
    UpstreamFaultError,
    UpstreamInvalidResponseError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
    build_connector,
)
from connectors.demo.server import DemoMinistries
from tests.connectors.conftest import dataset
from tests.connectors.hostile import HostileUpstream

AN = {"so_dinh_danh": "001087012345", "ho_va_ten": "Nguyễn Văn An", "ngay_sinh": "1987-03-15"}
FAST = {"connect": 0.5, "read": 0.5, "total": 1.0}
MARGIN = 0.4

SOAP_CASES = [
    ("fault", UpstreamFaultError),
    ("http500", UpstreamUnavailableError),
    ("http503", UpstreamUnavailableError),
    ("malformed", UpstreamInvalidResponseError),
    ("nonxml", UpstreamInvalidResponseError),
    ("dtd", UpstreamInvalidResponseError),
    ("xxe", UpstreamInvalidResponseError),
    ("big", UpstreamInvalidResponseError),
    ("big-declared", UpstreamInvalidResponseError),
    ("slow", UpstreamTimeoutError),
]


def soap_connector(
    ministries: DemoMinistries, breakers: BreakerRegistry, address: str, **kw: object
):
    definition = dataset("dan-cu", upstream__address=address, timeout=FAST, **kw)
    return build_connector(definition, env=ministries.env, breakers=breakers)


@pytest.mark.parametrize(("mode", "error"), SOAP_CASES)
def test_soap_faults(
    ministries: DemoMinistries,
    hostile: str,
    breakers: BreakerRegistry,
    ctx: Context,
    mode: str,
    error: type[ConnectorError],
) -> None:
    connector = soap_connector(ministries, breakers, f"{hostile}/soap/{mode}")
    started = time.monotonic()
    with pytest.raises(error) as info:
        connector.fetch(AN, ctx)
    assert time.monotonic() - started < FAST["total"] + MARGIN
    assert info.value.origin == "upstream"
    assert isinstance(info.value.__cause__, Exception) or mode.startswith("big")
    if mode.startswith("big"):  # refused for its size, never read in full or parsed
        assert "larger than" in str(info.value)


def test_soap_fault_details(
    ministries: DemoMinistries, hostile: str, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = soap_connector(ministries, breakers, f"{hostile}/soap/fault")
    with pytest.raises(UpstreamFaultError) as info:
        connector.fetch(AN, ctx)
    assert info.value.fault_code == "Server.BaoTri"
    assert info.value.fault_string == "Hệ thống đang bảo trì"
    assert info.value.to_dict()["code"] == "upstream_fault"


def test_soap_refused_connection(
    ministries: DemoMinistries, refused_url: str, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = soap_connector(ministries, breakers, refused_url)
    with pytest.raises(UpstreamUnavailableError):
        connector.fetch(AN, ctx)


def test_entity_content_never_reaches_the_record(
    ministries: DemoMinistries, hostile: str, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = soap_connector(ministries, breakers, f"{hostile}/soap/xxe")
    with pytest.raises(UpstreamInvalidResponseError) as info:
        connector.fetch(AN, ctx)
    assert "root:" not in str(info.value)


REST_CASES = [
    ("http500", UpstreamUnavailableError),
    ("http503", UpstreamUnavailableError),
    ("nonjson", UpstreamInvalidResponseError),
    ("badjson", UpstreamInvalidResponseError),
    ("big", UpstreamInvalidResponseError),
    ("slow", UpstreamTimeoutError),
]


def rest_connector(base_url: str, breakers: BreakerRegistry, **kw: object):
    definition = dataset("doanh-nghiep", timeout=FAST, **kw)
    env = {"LGSP_DEMO_BUSINESS_URL": base_url, "LGSP_DEMO_BUSINESS_API_KEY": "k"}
    return build_connector(definition, env=env, breakers=breakers)


@pytest.mark.parametrize(("mode", "error"), REST_CASES)
def test_rest_faults(
    hostile: str, breakers: BreakerRegistry, ctx: Context, mode: str, error: type[ConnectorError]
) -> None:
    connector = rest_connector(f"{hostile}/rest/{mode}", breakers)
    started = time.monotonic()
    with pytest.raises(error):
        connector.fetch({"ma_so_thue": "0108888888"}, ctx)
    assert time.monotonic() - started < FAST["total"] + MARGIN


def test_rest_refused_connection(refused_url: str, breakers: BreakerRegistry, ctx: Context) -> None:
    with pytest.raises(UpstreamUnavailableError):
        rest_connector(refused_url, breakers).fetch({"ma_so_thue": "0108888888"}, ctx)


def test_slow_without_retry_returns_within_read_timeout(
    hostile: str, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = rest_connector(f"{hostile}/rest/slow", breakers, retry={"attempts": 0})
    started = time.monotonic()
    with pytest.raises(UpstreamTimeoutError):
        connector.fetch({"ma_so_thue": "0108888888"}, ctx)
    assert time.monotonic() - started < FAST["read"] + MARGIN


# Retries: only timeouts, connection errors and 5xx, only for idempotent lookups.


def test_soap_5xx_is_retried_once(
    ministries: DemoMinistries,
    hostile: str,
    hostile_app: HostileUpstream,
    breakers: BreakerRegistry,
    ctx: Context,
) -> None:
    before = hostile_app.hit_count("soap/http500")
    with pytest.raises(UpstreamUnavailableError):
        soap_connector(ministries, breakers, f"{hostile}/soap/http500").fetch(AN, ctx)
    assert hostile_app.hit_count("soap/http500") - before == 2


def test_soap_fault_is_not_retried(
    ministries: DemoMinistries,
    hostile: str,
    hostile_app: HostileUpstream,
    breakers: BreakerRegistry,
    ctx: Context,
) -> None:
    before = hostile_app.hit_count("soap/fault")
    with pytest.raises(UpstreamFaultError):
        soap_connector(ministries, breakers, f"{hostile}/soap/fault").fetch(AN, ctx)
    assert hostile_app.hit_count("soap/fault") - before == 1


def test_invalid_response_is_not_retried(
    ministries: DemoMinistries,
    hostile: str,
    hostile_app: HostileUpstream,
    breakers: BreakerRegistry,
    ctx: Context,
) -> None:
    before = hostile_app.hit_count("soap/malformed")
    with pytest.raises(UpstreamInvalidResponseError):
        soap_connector(ministries, breakers, f"{hostile}/soap/malformed").fetch(AN, ctx)
    assert hostile_app.hit_count("soap/malformed") - before == 1


def test_flaky_rest_succeeds_on_retry(
    hostile: str, hostile_app: HostileUpstream, breakers: BreakerRegistry, ctx: Context
) -> None:
    before = hostile_app.hit_count("rest/flaky")
    result = rest_connector(f"{hostile}/rest/flaky", breakers).fetch(
        {"ma_so_thue": "0108888888"}, ctx
    )
    assert result.found
    assert hostile_app.hit_count("rest/flaky") - before == 2


def test_retry_can_be_switched_off(
    hostile: str, hostile_app: HostileUpstream, breakers: BreakerRegistry, ctx: Context
) -> None:
    before = hostile_app.hit_count("rest/http500")
    connector = rest_connector(f"{hostile}/rest/http500", breakers, retry={"attempts": 0})
    with pytest.raises(UpstreamUnavailableError):
        connector.fetch({"ma_so_thue": "0108888888"}, ctx)
    assert hostile_app.hit_count("rest/http500") - before == 1


def test_non_idempotent_post_is_never_retried(
    hostile: str, hostile_app: HostileUpstream, breakers: BreakerRegistry, ctx: Context
) -> None:
    before = hostile_app.hit_count("rest/http500")
    connector = rest_connector(
        f"{hostile}/rest/http500",
        breakers,
        upstream__method="POST",
        upstream__path="/tra-cuu",
        request={"ma_so_thue": "MaSoThue"},
        retry={},
    )
    assert connector.definition.retry.attempts == 0
    with pytest.raises(UpstreamUnavailableError):
        connector.fetch({"ma_so_thue": "0108888888"}, ctx)
    assert hostile_app.hit_count("rest/http500") - before == 1

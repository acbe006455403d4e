"""Faults of issue 4 through POST /api/v1/datasets/{id}/query that the connector tests
cover one layer down: hostile XML and oversized answers, the breaker's recovery, retries,
and the response cache keyed by the permitted field set."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.wrappers import Request, Response

from connectors.demo.server import DemoMinistries, ServerThread, serve_app
from connectors.resilience import BreakerRegistry
from hub.config import Settings
from hub.datasets.service import DatasetRuntime
from hub.db import Database
from hub.governance.policy import GovernancePolicy
from identity.oauth import clients
from tests.connectors.conftest import FakeClock
from tests.connectors.hostile import HostileUpstream
from tests.datasets.conftest import AN, TokenFactory, query
from tests.datasets.test_faults import (
    MARGIN,
    TOTAL,
    Faults,
    _store,
    expect,
    faulty,
    timed,
)
from tests.governance.conftest import grant

__all__ = ["faulty"]

TAX_CODE = {"ma_so_thue": "0108888888"}


BIG = 4 * 1024 * 1024  # twice the connectors' cap


class Upstream(HostileUpstream):
    """The connector tests' hostile upstream, plus a REST client error (HTTP 400) and
    oversized answers that state their length: werkzeug replaces the Content-Length of a
    bytes body with its real length, so HostileUpstream's "big-declared" sends four bytes
    with "Content-Length: 4"; an iterable body keeps the declared one."""

    def respond(self, kind: str, mode: str, count: int, request: Request) -> Response:
        xml_or_json = "text/xml" if kind == "soap" else "application/json"
        if mode == "http400":
            return Response('{"error": "bad request"}', 400, content_type="application/json")
        if mode == "big-sized":
            return Response(b"<x>" + b" " * BIG + b"</x>", 200, content_type=xml_or_json)
        if mode == "big-announced":
            # Announces more than the cap but sends four bytes: only the header can refuse it.
            return Response(
                iter([b"<x/>"]),
                200,
                headers={"Content-Length": str(BIG)},
                content_type=xml_or_json,
            )
        return super().respond(kind, mode, count, request)


@pytest.fixture(scope="module")
def hostile_app() -> Upstream:
    return Upstream()


@pytest.fixture(scope="module")
def hostile(hostile_app: Upstream) -> Iterator[str]:
    server: ServerThread = serve_app(hostile_app)
    yield server.base_url
    server.stop()


@pytest.fixture(autouse=True)
def _healthy_faulty_ministries() -> Iterator[None]:
    Faults.mode = "ok"
    yield
    Faults.mode = "ok"


def _soap(db: Database, ministries: DemoMinistries, dataset_id: str, address: str) -> None:
    upstream = {"wsdl": ministries.env["LGSP_DEMO_POPULATION_WSDL"], "address": address}
    _store(db, "dan-cu.yaml", dataset_id, upstream=upstream)


# Hostile or oversized answers: 502 upstream_invalid_response, within the budget.

SOAP_MODES = ["malformed", "nonxml", "dtd", "xxe", "big", "big-sized", "big-announced"]
REST_MODES = ["nonjson", "badjson", "big", "big-sized", "big-announced"]
# The reason the hub gives (the problem's detail) for each mode.
REASONS = {
    "malformed": "not a SOAP envelope",
    "nonxml": "XMLSyntaxError",
    "dtd": "DTDForbidden",
    "xxe": "DTDForbidden",
    "nonjson": "not JSON",
    "badjson": "not valid JSON",
    "big": "larger than",
    "big-sized": "larger than",
    "big-announced": "larger than",
}


@pytest.mark.parametrize("mode", SOAP_MODES)
def test_hostile_soap_answer_is_invalid_response_within_the_budget(
    hub: Flask,
    db: Database,
    ministries: DemoMinistries,
    hostile: str,
    token_for: TokenFactory,
    mode: str,
) -> None:
    dataset = f"dan-cu-{mode}"
    _soap(db, ministries, dataset, f"{hostile}/soap/{mode}")
    api = hub.test_client()
    token = token_for(f"dataset:{dataset}", "dataset:dan-cu")
    # The WSDL (read once per process) is read before the clock starts.
    assert query(api, "dan-cu", AN, token=token).status_code == 200
    response, took = timed(api, dataset, AN, token)
    body = expect(response, 502, "upstream_invalid_response", "upstream")
    assert body["dataset"] == dataset
    assert REASONS[mode] in body["detail"]
    assert took < TOTAL + MARGIN
    # Nothing of the entity's target (/etc/passwd) or the payload comes back.
    text = response.get_data(as_text=True)
    assert "root:" not in text and "lol" not in text


@pytest.mark.parametrize("mode", REST_MODES)
def test_hostile_rest_answer_is_invalid_response_within_the_budget(
    hub: Flask, db: Database, hostile: str, token_for: TokenFactory, mode: str
) -> None:
    dataset = f"doanh-nghiep-{mode}"
    _store(db, "doanh-nghiep.yaml", dataset, upstream={"base_url": f"{hostile}/rest/{mode}"})
    response, took = timed(hub.test_client(), dataset, TAX_CODE, token_for(f"dataset:{dataset}"))
    body = expect(response, 502, "upstream_invalid_response", "upstream")
    assert REASONS[mode] in body["detail"]
    assert took < TOTAL + MARGIN


# The breaker recovers: open → half-open after its reset time → closed on a good probe.


def _breaker(api: FlaskClient, dataset: str) -> str:
    ready = api.get("/readyz")
    assert ready.status_code == 200
    state: str = ready.get_json()["checks"]["upstreams"]["breakers"][dataset]["state"]
    return state


def test_breaker_half_opens_after_its_reset_time_and_closes_on_a_good_probe(
    hub: Flask,
    db: Database,
    ministries: DemoMinistries,
    faulty: dict[str, ServerThread],
    token_for: TokenFactory,
) -> None:
    clock = FakeClock()
    hub.extensions["lgsp.datasets"] = DatasetRuntime(
        env={**ministries.env, "LGSP_DEMO_BUSINESS_API_KEY": "faulty-key"},
        breakers=BreakerRegistry(clock=clock),
    )
    dataset = "doanh-nghiep-hoi-phuc"
    _store(db, "doanh-nghiep.yaml", dataset, upstream={"base_url": faulty["business"].base_url})
    api = hub.test_client()
    token = token_for(f"dataset:{dataset}")

    Faults.mode = "500"
    for _ in range(3):  # the breaker's failure_threshold
        expect(query(api, dataset, TAX_CODE, token=token), 502, "upstream_unavailable", "upstream")
    Faults.mode = "ok"
    response = query(api, dataset, TAX_CODE, token=token)
    expect(response, 503, "circuit_open", "hub")
    assert int(response.headers["Retry-After"]) == 30
    assert _breaker(api, dataset) == "open"

    clock.advance(29)
    expect(query(api, dataset, TAX_CODE, token=token), 503, "circuit_open", "hub")

    # A failed probe opens it again for a whole reset time.
    clock.advance(1)
    assert _breaker(api, dataset) == "half_open"
    Faults.mode = "500"
    expect(query(api, dataset, TAX_CODE, token=token), 502, "upstream_unavailable", "upstream")
    assert _breaker(api, dataset) == "open"
    Faults.mode = "ok"
    response = query(api, dataset, TAX_CODE, token=token)
    expect(response, 503, "circuit_open", "hub")
    assert int(response.headers["Retry-After"]) == 30

    # A good probe closes it: the probe's own answer and the next ones go through.
    clock.advance(30)
    assert _breaker(api, dataset) == "half_open"
    text = api.get("/metrics").get_data(as_text=True)
    assert f'lgsp_upstream_breaker_state{{state="half_open",upstream="{dataset}"}} 1.0' in text
    assert f'lgsp_upstream_breaker_state{{state="open",upstream="{dataset}"}} 0.0' in text
    ready = api.get("/readyz").get_json()["checks"]["upstreams"]
    assert ready["status"] == "degraded" and ready["open"] == [dataset]
    probe = query(api, dataset, TAX_CODE, token=token)
    assert probe.status_code == 200 and probe.get_json()["status"] == "found"
    assert _breaker(api, dataset) == "closed"
    assert api.get("/readyz").get_json()["checks"]["upstreams"]["status"] == "ok"
    assert query(api, dataset, TAX_CODE, token=token).status_code == 200


# Retries: one retry of a 5xx of an idempotent lookup; a 4xx is an answer, never retried.


def test_a_5xx_is_retried_once_and_the_second_attempt_answers(
    hub: Flask, db: Database, hostile: str, hostile_app: Upstream, token_for: TokenFactory
) -> None:
    dataset = "doanh-nghiep-chap-chon"
    _store(
        db,
        "doanh-nghiep.yaml",
        dataset,
        upstream={"base_url": f"{hostile}/rest/flaky"},
        retry={"attempts": 1, "backoff": 0.05},
    )
    token = token_for(f"dataset:{dataset}")
    # flaky answers 503 to every odd-numbered request and the record to the even ones.
    assert hostile_app.hit_count("rest/flaky") % 2 == 0
    before = hostile_app.hit_count("rest/flaky")
    response, took = timed(hub.test_client(), dataset, TAX_CODE, token)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "found" and body["data"]["tax_code"] == "0108888888"
    assert hostile_app.hit_count("rest/flaky") - before == 2
    assert took < TOTAL + MARGIN


def test_a_5xx_is_not_retried_when_the_definition_says_so(
    hub: Flask, db: Database, hostile: str, hostile_app: Upstream, token_for: TokenFactory
) -> None:
    dataset = "doanh-nghiep-khong-lai"
    _store(db, "doanh-nghiep.yaml", dataset, upstream={"base_url": f"{hostile}/rest/flaky"})
    before = hostile_app.hit_count("rest/flaky")
    response = query(hub.test_client(), dataset, TAX_CODE, token=token_for(f"dataset:{dataset}"))
    # An upstream 503 stays a 503 (the hub passes "try later" on).
    expect(response, 503, "upstream_unavailable", "upstream")
    assert hostile_app.hit_count("rest/flaky") - before == 1
    # Keep flaky's parity for the other tests: the next request would be answered.
    again = query(hub.test_client(), dataset, TAX_CODE, token=token_for(f"dataset:{dataset}"))
    assert again.status_code == 200


def test_a_4xx_is_not_retried(
    hub: Flask, db: Database, hostile: str, hostile_app: Upstream, token_for: TokenFactory
) -> None:
    dataset = "doanh-nghiep-400"
    _store(
        db,
        "doanh-nghiep.yaml",
        dataset,
        upstream={"base_url": f"{hostile}/rest/http400"},
        retry={"attempts": 1, "backoff": 0.05},
    )
    before = hostile_app.hit_count("rest/http400")
    response = query(hub.test_client(), dataset, TAX_CODE, token=token_for(f"dataset:{dataset}"))
    body = expect(response, 502, "upstream_fault", "upstream")
    assert body["fault_code"] == "bad request"
    assert hostile_app.hit_count("rest/http400") - before == 1


# The response cache: two permitted field sets never share an entry.


def _agency_token(hub: Flask, db: Database, settings: Settings, scope: str) -> tuple[str, str]:
    with db.transaction() as conn:
        client, secret = clients.register_client(
            conn,
            settings=settings,
            name="Cache test agency",
            grant_types=["client_credentials"],
            scopes=[scope],
            auth_method="client_secret_basic",
        )
    basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    response = hub.test_client().post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": scope},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return client.client_id, response.get_json()["access_token"]


def test_two_permitted_field_sets_never_share_a_cache_entry(
    hub: Flask, db: Database, settings: Settings, ministries: DemoMinistries
) -> None:
    hub.extensions["lgsp.datasets"] = DatasetRuntime(
        env=ministries.env, policy=GovernancePolicy(db, settings)
    )
    dataset = "doanh-nghiep-dem-truong"
    _store(
        db,
        "doanh-nghiep.yaml",
        dataset,
        upstream={"base_url": ministries.env["LGSP_DEMO_BUSINESS_URL"]},
        cache_ttl=60,
        cache_personal=True,
    )
    wide_fields = {"tax_code", "name", "status", "founding_date"}
    narrow_fields = {"tax_code", "name"}
    wide_client, wide = _agency_token(hub, db, settings, f"dataset:{dataset}")
    narrow_client, narrow = _agency_token(hub, db, settings, f"dataset:{dataset}")
    grant(db, settings, wide_client, dataset, fields=sorted(wide_fields))
    grant(db, settings, narrow_client, dataset, fields=sorted(narrow_fields))
    api = hub.test_client()

    def ask(token: str) -> tuple[set[str], bool]:
        response = query(api, dataset, TAX_CODE, token=token)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        return set(body["data"]), body["meta"]["cached"]

    # The wider answer first: were the entry shared, the narrow caller would see too much.
    assert ask(wide) == (wide_fields, False)
    assert ask(narrow) == (narrow_fields, False)
    assert ask(narrow) == (narrow_fields, True)
    assert ask(wide) == (wide_fields, True)

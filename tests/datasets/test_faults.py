"""Faulty upstreams: each failure becomes its problem code within the timeout plus a margin."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from spyne import Fault

from connectors.definition import parse_definition
from connectors.demo.business import BusinessRegistryApp
from connectors.demo.population import make_population_app
from connectors.demo.server import ServerThread, serve_app
from hub.datasets import service
from hub.db import Database
from tests.datasets.conftest import AN, TokenFactory, query

ROOT = Path(__file__).resolve().parents[2]
TOTAL = 1.0
MARGIN = 1.5
# A call the upstream holds past its budget ends this soon after it (the watchdog's margin).
DEADLINE_MARGIN = 0.3


class Faults:
    """What the faulty ministries do to the next requests (a mode per test)."""

    mode = "ok"


def _population_check(headers: dict[str, Any]) -> None:
    if Faults.mode == "fault":
        raise Fault(faultcode="Server.LoiHeThong", faultstring="Lỗi hệ thống CSDL dân cư")
    if Faults.mode == "slow":
        time.sleep(TOTAL + 1)


class FaultInjector:
    """WSGI middleware: answers POSTs (SOAP calls) and REST lookups according to Faults.mode."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        is_call = environ["REQUEST_METHOD"] == "POST" or environ["PATH_INFO"].startswith("/api/")
        if is_call and Faults.mode == "500":
            start_response("500 Internal Server Error", [("Content-Type", "text/html")])
            return [b"<html><body>Internal Server Error</body></html>"]
        if is_call and Faults.mode == "garbage":
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [b"this is not XML at all"]
        if is_call and Faults.mode == "slow" and environ["PATH_INFO"].startswith("/api/"):
            time.sleep(TOTAL + 1)
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def faulty() -> Iterator[dict[str, ServerThread]]:
    """A population (SOAP) and a business (REST) ministry whose behaviour tests choose."""
    population = serve_app(FaultInjector(make_population_app(check=_population_check)))
    business = serve_app(FaultInjector(BusinessRegistryApp(api_key="faulty-key")))
    yield {"population": population, "business": business}
    population.stop()
    business.stop()


@pytest.fixture(autouse=True)
def _reset_mode() -> Iterator[None]:
    Faults.mode = "ok"
    yield
    Faults.mode = "ok"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _store(db: Database, source: str, dataset_id: str, **changes: Any) -> None:
    data = yaml.safe_load((ROOT / "datasets" / source).read_text(encoding="utf-8"))
    data.update(id=dataset_id, timeout={"connect": 0.5, "read": TOTAL, "total": TOTAL})
    data.update(retry={"attempts": 0, "backoff": 0.05})
    data.update(breaker={"failure_threshold": 3, "reset_seconds": 30})
    upstream = changes.pop("upstream", {})
    data["upstream"].update(upstream)
    data.update(changes)
    with db.transaction() as conn:
        service.store_definition(
            conn,
            definition=parse_definition(data, source=f"test {dataset_id}"),
            source_yaml=yaml.safe_dump(data),
            loaded_by="test",
        )


@pytest.fixture
def faulty_api(
    hub: Flask, db: Database, faulty: dict[str, ServerThread]
) -> tuple[FlaskClient, str, str]:
    pop_wsdl = faulty["population"].base_url + "/?wsdl"
    _store(db, "dan-cu.yaml", "dan-cu-loi", upstream={"wsdl": pop_wsdl})
    _store(
        db,
        "dan-cu.yaml",
        "dan-cu-tat",
        upstream={"wsdl": pop_wsdl, "address": f"http://127.0.0.1:{_closed_port()}/"},
    )
    _store(
        db,
        "doanh-nghiep.yaml",
        "doanh-nghiep-loi",
        upstream={"base_url": faulty["business"].base_url},
    )
    runtime = hub.extensions["lgsp.datasets"]
    runtime.env["LGSP_DEMO_BUSINESS_API_KEY"] = "faulty-key"
    return hub.test_client(), pop_wsdl, faulty["business"].base_url


SCOPES = ("dataset:dan-cu-loi", "dataset:dan-cu-tat", "dataset:doanh-nghiep-loi")


def timed(api: FlaskClient, dataset: str, params: dict[str, Any], token: str) -> tuple[Any, float]:
    started = time.monotonic()
    response = query(api, dataset, params, token=token)
    return response, time.monotonic() - started


def expect(response: Any, status: int, code: str, origin: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert (body["code"], body["origin"]) == (code, origin)
    return body


def test_faulty_upstream_answers_normally_when_healthy(faulty_api, token_for: TokenFactory) -> None:
    api, _, _ = faulty_api
    token = token_for(*SCOPES)
    assert query(api, "dan-cu-loi", AN, token=token).get_json()["status"] == "found"
    found = query(api, "doanh-nghiep-loi", {"ma_so_thue": "0108888888"}, token=token)
    assert found.get_json()["status"] == "found"


def test_connection_refused_is_upstream_unavailable(faulty_api, token_for: TokenFactory) -> None:
    api, _, _ = faulty_api
    response, took = timed(api, "dan-cu-tat", AN, token_for(*SCOPES))
    expect(response, 502, "upstream_unavailable", "upstream")
    assert took < TOTAL + MARGIN


def test_slow_soap_upstream_is_a_timeout(faulty_api, token_for: TokenFactory) -> None:
    api, _, _ = faulty_api
    token = token_for(*SCOPES)
    query(api, "dan-cu-loi", AN, token=token)  # the WSDL is read before the clock starts
    Faults.mode = "slow"
    response, took = timed(api, "dan-cu-loi", AN, token)
    expect(response, 504, "upstream_timeout", "upstream")
    assert took < TOTAL + MARGIN


def test_slow_rest_upstream_is_a_timeout(faulty_api, token_for: TokenFactory) -> None:
    api, _, _ = faulty_api
    Faults.mode = "slow"
    response, took = timed(
        api, "doanh-nghiep-loi", {"ma_so_thue": "0108888888"}, token_for(*SCOPES)
    )
    expect(response, 504, "upstream_timeout", "upstream")
    assert took < TOTAL + MARGIN


def test_soap_fault_is_upstream_fault_with_its_code(faulty_api, token_for: TokenFactory) -> None:
    api, _, _ = faulty_api
    Faults.mode = "fault"
    response, took = timed(api, "dan-cu-loi", AN, token_for(*SCOPES))
    body = expect(response, 502, "upstream_fault", "upstream")
    assert body["fault_code"].endswith("LoiHeThong")
    assert took < TOTAL + MARGIN


def test_http_500_is_upstream_unavailable(faulty_api, token_for: TokenFactory) -> None:
    api, _, _ = faulty_api
    token = token_for(*SCOPES)
    query(api, "dan-cu-loi", AN, token=token)
    Faults.mode = "500"
    expect(query(api, "dan-cu-loi", AN, token=token), 502, "upstream_unavailable", "upstream")
    rest = query(api, "doanh-nghiep-loi", {"ma_so_thue": "0108888888"}, token=token)
    expect(rest, 502, "upstream_unavailable", "upstream")


def test_non_xml_answer_is_invalid_response(faulty_api, token_for: TokenFactory) -> None:
    api, _, _ = faulty_api
    token = token_for(*SCOPES)
    query(api, "dan-cu-loi", AN, token=token)
    Faults.mode = "garbage"
    expect(query(api, "dan-cu-loi", AN, token=token), 502, "upstream_invalid_response", "upstream")


def test_unreachable_wsdl_leaves_the_rest_of_the_catalogue_working(
    hub: Flask, db: Database, token_for: TokenFactory
) -> None:
    _store(
        db,
        "dan-cu.yaml",
        "dan-cu-mat",
        upstream={"wsdl": f"http://127.0.0.1:{_closed_port()}/?wsdl"},
    )
    api = hub.test_client()
    token = token_for("dataset:dan-cu-mat", "dataset:dan-cu")
    expect(query(api, "dan-cu-mat", AN, token=token), 502, "upstream_unavailable", "upstream")
    assert query(api, "dan-cu", AN, token=token).get_json()["status"] == "found"
    ids = {d["id"] for d in api.get("/api/v1/datasets").get_json()["datasets"]}
    assert {"dan-cu", "dan-cu-mat"} <= ids


def test_breaker_opens_answers_503_and_shows_in_readyz_and_metrics(
    faulty_api, token_for: TokenFactory
) -> None:
    api, _, _ = faulty_api
    token = token_for(*SCOPES)
    Faults.mode = "500"
    for _ in range(3):
        expect(
            query(api, "doanh-nghiep-loi", {"ma_so_thue": "0108888888"}, token=token),
            502,
            "upstream_unavailable",
            "upstream",
        )
    Faults.mode = "ok"
    response = query(api, "doanh-nghiep-loi", {"ma_so_thue": "0108888888"}, token=token)
    body = expect(response, 503, "circuit_open", "hub")
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    assert body["dataset"] == "doanh-nghiep-loi"
    # Other upstreams are not affected.
    assert query(api, "dan-cu-loi", AN, token=token).status_code == 200

    ready = api.get("/readyz")
    assert ready.status_code == 200
    upstreams = ready.get_json()["checks"]["upstreams"]
    assert upstreams["status"] == "degraded"
    assert upstreams["breakers"]["doanh-nghiep-loi"]["state"] == "open"
    assert upstreams["breakers"]["dan-cu-loi"]["state"] == "closed"
    assert upstreams["open"] == ["doanh-nghiep-loi"]

    text = api.get("/metrics").get_data(as_text=True)
    assert 'lgsp_upstream_breaker_open{upstream="doanh-nghiep-loi"} 1.0' in text
    assert 'lgsp_upstream_breaker_open{upstream="dan-cu-loi"} 0.0' in text
    assert (
        'lgsp_upstream_duration_seconds_count{dataset="doanh-nghiep-loi",outcome="upstream_unavailable"}'
        in text
    )
    assert (
        'lgsp_upstream_duration_seconds_bucket{dataset="dan-cu-loi",le="0.005",outcome="found"}'
        in text
    )


class SlowServer:
    """A raw HTTP server that never finishes: by path it trickles the headers or the body
    (a byte every 0.2 s, well inside the read timeout), or accepts and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            request = conn.recv(65536)
            if b" /stall" in request:
                self.held.append(conn)
                return
            if b" /headers" in request:
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                for _ in range(100):
                    conn.sendall(b"X-A: b\r\n")
                    time.sleep(0.2)
            else:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100\r\n\r\n"
                )
                for _ in range(100):
                    conn.sendall(b" ")
                    time.sleep(0.2)
        except OSError:
            pass
        conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="module")
def slow() -> Iterator[SlowServer]:
    server = SlowServer()
    yield server
    server.stop()


@pytest.mark.parametrize("phase", ["headers", "body"])
@pytest.mark.parametrize("kind", ["soap", "rest"])
def test_an_upstream_trickling_its_answer_times_out_within_the_budget(
    faulty_api, db: Database, slow: SlowServer, token_for: TokenFactory, kind: str, phase: str
) -> None:
    api, pop_wsdl, _ = faulty_api
    dataset = f"nho-giot-{kind}-{phase}"
    if kind == "soap":
        _store(
            db,
            "dan-cu.yaml",
            dataset,
            upstream={"wsdl": pop_wsdl, "address": f"{slow.base_url}/{phase}"},
        )
        params: dict[str, Any] = AN
    else:
        _store(db, "doanh-nghiep.yaml", dataset, upstream={"base_url": f"{slow.base_url}/{phase}"})
        params = {"ma_so_thue": "0108888888"}
    token = token_for(f"dataset:{dataset}", *SCOPES)
    # The WSDL (read once per process, from a healthy server) is read before the clock starts.
    query(api, "dan-cu-loi", AN, token=token)
    response, took = timed(api, dataset, params, token)
    expect(response, 504, "upstream_timeout", "upstream")
    assert took < TOTAL + DEADLINE_MARGIN


def test_a_stalled_wsdl_counts_against_the_breaker_within_the_budget(
    hub: Flask, db: Database, slow: SlowServer, token_for: TokenFactory
) -> None:
    _store(db, "dan-cu.yaml", "dan-cu-wsdl-treo", upstream={"wsdl": f"{slow.base_url}/stall?wsdl"})
    api = hub.test_client()
    token = token_for("dataset:dan-cu-wsdl-treo")
    for _ in range(3):  # the breaker's failure_threshold
        response, took = timed(api, "dan-cu-wsdl-treo", AN, token)
        body = expect(response, 502, "upstream_unavailable", "upstream")
        assert "WSDL" in body["detail"]
        assert took < TOTAL + DEADLINE_MARGIN
    response, took = timed(api, "dan-cu-wsdl-treo", AN, token)
    expect(response, 503, "circuit_open", "hub")
    assert 1 <= int(response.headers["Retry-After"]) <= 30
    assert took < 0.2


def test_a_cached_answer_keeps_the_time_the_upstream_answered(
    faulty_api, db: Database, token_for: TokenFactory
) -> None:
    api, _, business = faulty_api
    _store(
        db,
        "doanh-nghiep.yaml",
        "doanh-nghiep-dem",
        upstream={"base_url": business},
        cache_ttl=60,
        cache_personal=True,
    )
    token = token_for("dataset:doanh-nghiep-dem")
    first = query(api, "doanh-nghiep-dem", {"ma_so_thue": "0108888888"}, token=token).get_json()
    time.sleep(0.05)
    again = query(api, "doanh-nghiep-dem", {"ma_so_thue": "0108888888"}, token=token).get_json()
    assert (first["meta"]["cached"], again["meta"]["cached"]) == (False, True)
    assert again["meta"]["retrieved_at"] == first["meta"]["retrieved_at"]

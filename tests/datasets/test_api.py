"""The uniform shared-data API over the demo ministries: catalogue, description, queries."""

from __future__ import annotations

import dataclasses
import json
import re

from flask import Flask
from flask.testing import FlaskClient

from connectors.checks import tax_check_digit
from connectors.demo.server import DemoMinistries
from hub.config import Settings
from hub.datasets import service
from hub.db import Database
from identity import keys
from identity.oauth import clients
from identity.oauth.tokens import issue_access_token
from tests.datasets.conftest import AN, PURPOSE, TokenFactory, query


def assert_problem(response, status: int, code: str, origin: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == code
    assert body["origin"] == origin
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


def test_catalogue_lists_enabled_datasets(api: FlaskClient) -> None:
    response = api.get("/api/v1/datasets")
    assert response.status_code == 200
    items = {d["id"]: d for d in response.get_json()["datasets"]}
    assert set(items) == {"dan-cu", "doanh-nghiep", "bao-hiem-xa-hoi"}
    dan_cu = items["dan-cu"]
    assert dan_cu["title"]["vi"].startswith("Tra cứu thông tin công dân")
    assert dan_cu["title"]["en"].startswith("Citizen lookup")
    assert dan_cu["owner"]["code"] == "C06"
    assert dan_cu["version"] == 1
    assert dan_cu["enabled"] is True
    assert dan_cu["scope"] == "dataset:dan-cu"


def test_description_has_schemas_fields_and_example(api: FlaskClient) -> None:
    body = api.get("/api/v1/datasets/dan-cu").get_json()
    assert body["input_schema"]["required"] == ["so_dinh_danh", "ho_va_ten", "ngay_sinh"]
    assert body["input_schema"]["properties"]["so_dinh_danh"]["pattern"] == "^[0-9]{12}$"
    assert "full_name" in body["output_schema"]["properties"]
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["ethnicity"]["sensitive"] is True and fields["ethnicity"]["personal"] is True
    assert fields["full_name"]["personal"] is True and fields["full_name"]["sensitive"] is False
    assert body["example"]["request"]["params"]["so_dinh_danh"] == "001087012345"
    assert body["example"]["response"]["status"] == "found"


def test_description_of_unknown_dataset_is_404(api: FlaskClient) -> None:
    assert_problem(api.get("/api/v1/datasets/khong-co"), 404, "unknown_dataset", "client")


def test_population_found_and_context_reaches_the_soap_headers(
    api: FlaskClient, token_for: TokenFactory, ministries: DemoMinistries
) -> None:
    token = token_for("dataset:dan-cu")
    response = query(
        api,
        "dan-cu",
        AN,
        token=token,
        **{"X-Official-Id": "CB-0042", "X-Request-Id": "req-12345678"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    # Where the time went: the ministry call, and the hub's own work.
    timing = re.fullmatch(
        r'upstream;dur=([\d.]+);desc="ministry call", hub;dur=([\d.]+);desc="token, grant, audit"',
        response.headers["Server-Timing"],
    )
    assert timing and float(timing.group(1)) > 0 and float(timing.group(2)) > 0
    body = response.get_json()
    assert body["status"] == "found"
    assert body["data"]["full_name"] == "Nguyễn Văn An"
    assert body["data"]["birth_date"] == "1987-03-15"
    assert body["data"]["sex"] == "male"
    meta = body["meta"]
    assert meta["dataset"] == "dan-cu" and meta["version"] == 1
    assert meta["request_id"] == "req-12345678"
    assert meta["cached"] is False and meta["fields_withheld"] == []
    assert meta["source"] == "C06: TraCuuCongDan"
    assert meta["retrieved_at"].endswith("Z")
    received = ministries.population_headers.received[-1]
    assert received["MaYeuCau"] == "req-12345678"
    assert received["MaThuTuc"] == PURPOSE
    assert received["MaCanBo"] == "CB-0042"
    assert received["MaDonVi"]  # the calling agency: the token's client_id


def test_population_not_found_when_the_name_does_not_match(
    api: FlaskClient, token_for: TokenFactory
) -> None:
    token = token_for("dataset:dan-cu")
    response = query(api, "dan-cu", {**AN, "ho_va_ten": "Nguyễn Văn Bình"}, token=token)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "not_found" and body["data"] is None


def test_business_registry_found_and_not_found(api: FlaskClient, token_for: TokenFactory) -> None:
    token = token_for("dataset:doanh-nghiep")
    found = query(api, "doanh-nghiep", {"ma_so_thue": "0108888888"}, token=token)
    assert found.status_code == 200
    assert found.get_json()["data"]["name"] == "Công ty TNHH Phần mềm Sông Hồng"
    assert found.get_json()["meta"]["source"].startswith("BKHDT-DKKD: GET ")
    absent = next(
        f"{n:09d}{tax_check_digit(f'{n:09d}')}"
        for n in range(10999990, 10999999)
        if tax_check_digit(f"{n:09d}") is not None
    )
    missing = query(api, "doanh-nghiep", {"ma_so_thue": absent}, token=token)
    assert missing.status_code == 200
    assert missing.get_json() == {**missing.get_json(), "status": "not_found", "data": None}


def test_invalid_params_list_each_field(api: FlaskClient, token_for: TokenFactory) -> None:
    token = token_for("dataset:dan-cu")
    response = query(
        api,
        "dan-cu",
        {"so_dinh_danh": "12345", "ngay_sinh": "15/03/1987", "extra": 1},
        token=token,
    )
    body = assert_problem(response, 400, "invalid_params", "client")
    assert set(body["errors"]) == {"so_dinh_danh", "ho_va_ten", "ngay_sinh", "extra"}
    assert all(isinstance(m, str) for msgs in body["errors"].values() for m in msgs)


def test_malformed_bodies_are_client_problems(api: FlaskClient, token_for: TokenFactory) -> None:
    token = token_for("dataset:dan-cu")
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": PURPOSE}
    url = "/api/v1/datasets/dan-cu/query"

    def post(data: bytes, content_type: str = "application/json"):
        return api.post(url, data=data, headers=headers, content_type=content_type)

    assert_problem(post(b'{"params": '), 400, "invalid_body", "client")
    assert_problem(post(b"\xff\xfe"), 400, "invalid_body", "client")
    assert_problem(post(b"[1, 2]"), 400, "invalid_body", "client")
    assert_problem(post(b""), 400, "invalid_body", "client")
    assert_problem(post(b"[" * 50_000), 400, "invalid_body", "client")
    body = assert_problem(post(b'{"params": [1]}'), 400, "invalid_params", "client")
    assert "params" in body["errors"]
    body = assert_problem(post(b'{"params": "x"}'), 400, "invalid_params", "client")
    assert "params" in body["errors"]
    body = assert_problem(post(b'{"params": {}, "more": 1}'), 400, "invalid_params", "client")
    assert "more" in body["errors"]
    huge = json.dumps({"params": {"ho_va_ten": "a" * 200_000}}).encode()
    assert_problem(post(huge), 413, "payload_too_large", "client")


def test_unknown_dataset_query_is_404(api: FlaskClient, token_for: TokenFactory) -> None:
    token = token_for("dataset:dan-cu")
    assert_problem(query(api, "khong-co", {}, token=token), 404, "unknown_dataset", "client")


def test_missing_and_invalid_tokens_are_401(api: FlaskClient) -> None:
    response = query(api, "dan-cu", AN, token=None)
    assert_problem(response, 401, "invalid_token", "client")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="lgsp"'
    response = query(api, "dan-cu", AN, token="not-a-token")
    assert_problem(response, 401, "invalid_token", "client")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    response = api.post(
        "/api/v1/datasets/dan-cu/query",
        json={"params": AN},
        headers={"Authorization": "Basic dXNlcjpwYXNz", "X-Purpose": PURPOSE},
    )
    assert_problem(response, 401, "invalid_token", "client")


def test_expired_token_is_401(
    api: FlaskClient, hub: Flask, db: Database, settings: Settings
) -> None:
    with db.transaction() as conn:
        keys.ensure_keys(conn, settings=settings)
        client, _ = clients.register_client(
            conn,
            settings=settings,
            name="Expired app",
            grant_types=["client_credentials"],
            scopes=["dataset:dan-cu"],
        )
        # A token that expired two minutes ago (beyond the verifier's leeway).
        token, _, _ = issue_access_token(
            conn,
            settings.replace(access_token_ttl=-120),
            client=client,
            user=None,
            scope="dataset:dan-cu",
        )
    response = query(api, "dan-cu", AN, token=token)
    assert_problem(response, 401, "invalid_token", "client")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_without_the_dataset_scope_is_403(api: FlaskClient, token_for: TokenFactory) -> None:
    token = token_for("dataset:doanh-nghiep")
    response = query(api, "dan-cu", AN, token=token)
    body = assert_problem(response, 403, "insufficient_scope", "client")
    assert body["scope"] == "dataset:dan-cu"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="dataset:dan-cu"' in response.headers["WWW-Authenticate"]


def test_purpose_is_required_and_checked(api: FlaskClient, token_for: TokenFactory) -> None:
    token = token_for("dataset:dan-cu")
    assert_problem(
        query(api, "dan-cu", AN, token=token, purpose=None), 400, "missing_purpose", "client"
    )
    assert_problem(
        query(api, "dan-cu", AN, token=token, purpose="bad purpose<script>"),
        400,
        "invalid_header",
        "client",
    )


def test_disabled_dataset_leaves_catalogue_and_refuses_queries(
    api: FlaskClient, token_for: TokenFactory, db: Database
) -> None:
    token = token_for("dataset:dan-cu")
    with db.transaction() as conn:
        service.set_enabled(conn, "dan-cu", enabled=False)
    ids = {d["id"] for d in api.get("/api/v1/datasets").get_json()["datasets"]}
    assert "dan-cu" not in ids
    assert_problem(query(api, "dan-cu", AN, token=token), 503, "dataset_disabled", "hub")
    with db.transaction() as conn:
        service.set_enabled(conn, "dan-cu", enabled=True)
    assert query(api, "dan-cu", AN, token=token).status_code == 200


def test_connector_is_built_once_per_version(
    api: FlaskClient, hub: Flask, token_for: TokenFactory, db: Database, ministries: DemoMinistries
) -> None:
    token = token_for("dataset:doanh-nghiep")
    runtime = hub.extensions["lgsp.datasets"]
    built: list[str] = []
    original = runtime._builder

    def counting(definition, **kwargs):
        built.append(definition.id)
        return original(definition, **kwargs)

    runtime._builder = counting
    for _ in range(3):
        assert (
            query(api, "doanh-nghiep", {"ma_so_thue": "0108888888"}, token=token).status_code == 200
        )
    assert built == ["doanh-nghiep"]
    # A new version gets a new connector; the answer says which version served it.
    with db.transaction() as conn:
        current = runtime.definition_of(service.store.get(conn, "doanh-nghiep"))
        stored = service.store_definition(
            conn,
            definition=dataclasses.replace(current, cache_ttl=60, cache_personal=True),
            source_yaml="# test",
            loaded_by="test",
        )
    assert stored.created and stored.version == 2
    answer = query(api, "doanh-nghiep", {"ma_so_thue": "0108888888"}, token=token).get_json()
    assert answer["meta"]["version"] == 2 and answer["meta"]["cached"] is False
    again = query(api, "doanh-nghiep", {"ma_so_thue": "0108888888"}, token=token).get_json()
    assert again["meta"]["cached"] is True
    assert built == ["doanh-nghiep", "doanh-nghiep"]

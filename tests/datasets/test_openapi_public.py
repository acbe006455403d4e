"""/api/openapi.json beyond the datasets: health, the citizen's /api/v1/me, the admin API.

The document must name real routes only (and every route of these APIs), and the answers
the hub really gives must match the schemas it publishes for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse

from hub.config import Settings
from hub.datasets.openapi import marshmallow_json_schema
from hub.db import Database
from hub.governance import schemas as gov_schemas
from tests.governance.conftest import App, agency, bearer, gov, make_app, people, staff, user_token

# The governance fixtures, shared with tests/governance.
__all__ = ["agency", "bearer", "gov", "make_app", "people", "staff"]

ADMIN = "/api/admin/v1"
METHODS = {"get", "put", "post", "delete", "patch"}
# Routes under the documented prefixes that are deliberately not operations of the API:
# the document itself, its page and assets, and the Prometheus exposition.
UNDOCUMENTED = {"/api/openapi.json", "/api/docs", "/api/docs/assets/{name}", "/metrics"}


def _spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.get_json()
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_public_paths_are_documented_with_their_security(api: FlaskClient) -> None:
    spec = _spec(api)
    validate(spec)
    for path in ("/healthz", "/readyz"):
        assert spec["paths"][path]["get"]["security"] == []
    readyz = spec["paths"]["/readyz"]["get"]["responses"]
    assert "application/problem+json" in readyz["503"]["content"]
    me = [(p, m, op) for p, m, op in _operations(spec) if p.startswith("/api/v1/me/")]
    admin = [(p, m, op) for p, m, op in _operations(spec) if p.startswith(ADMIN + "/")]
    assert {f"{m.upper()} {p}" for p, m, _ in me} == {
        "GET /api/v1/me/data-access",
        "GET /api/v1/me/organizations/data-access",
        "GET /api/v1/me/data-consents",
        "POST /api/v1/me/data-consents/{consent_id}/withdraw",
    }
    assert len(admin) == 20
    for scope, operations in (("my_data", me), ("governance", admin)):
        for path, method, op in operations:
            assert op["security"] == [{"user": [scope]}], (method, path)
            for status in ("401", "403"):
                assert "application/problem+json" in op["responses"][status]["content"]
            assert scope in op["responses"]["403"]["description"]
    user = spec["components"]["securitySchemes"]["user"]
    assert set(user["flows"]) == {"authorizationCode"}  # never client credentials
    assert set(user["flows"]["authorizationCode"]["scopes"]) == {"my_data", "governance"}
    # The OAuth 2.0 / OIDC endpoints are the discovery document's, not duplicated here.
    assert spec["externalDocs"]["url"] == "http://localhost/.well-known/openid-configuration"
    assert not [p for p in spec["paths"] if p.startswith(("/oauth2", "/.well-known"))]
    # Bodies and query strings come from the marshmallow schemas the views load with.
    schemas = spec["components"]["schemas"]
    assert schemas["GrantCreate"] == marshmallow_json_schema(gov_schemas.GRANT_CREATE)
    assert schemas["GrantCreate"]["additionalProperties"] is False
    assert schemas["GrantCreate"]["properties"]["fields"]["items"]["maxLength"] == 100
    assert schemas["Refuse"]["required"] == ["reasons"]
    assert schemas["ClientDeveloper"]["properties"]["account_id"]["format"] == "uuid"
    assert schemas["Role"]["properties"]["role"]["enum"] == [
        "admin",
        "data_owner",
        "auditor",
        "developer",
    ]
    create = spec["paths"][f"{ADMIN}/grants"]["post"]
    assert create["requestBody"]["required"] is True
    assert set(create["responses"]) >= {"201", "400", "401", "403"}
    audit = spec["paths"][f"{ADMIN}/audit"]["get"]
    assert {p["name"] for p in audit["parameters"]} == set(gov_schemas.AUDIT_QUERY.load_fields)
    csv = spec["paths"][f"{ADMIN}/audit.csv"]["get"]["responses"]["200"]
    assert list(csv["content"]) == ["text/csv"]


def _route_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_documented_path_is_a_route_and_every_route_is_documented(hub: Flask) -> None:
    spec = _spec(hub.test_client())
    routes = {
        (_route_path(rule.rule), method.lower()): rule.endpoint
        for rule in hub.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    adapter = hub.url_map.bind("localhost")
    documented = set()
    for path, method, _ in _operations(spec):
        if (path, method) in routes:
            documented.add((path, method))
            continue
        # A dataset's query is documented once per dataset, under its concrete path.
        try:
            assert "{" not in path
            endpoint, _args = adapter.match(path, method=method.upper())
        except (AssertionError, HTTPException):
            pytest.fail(f"{method.upper()} {path} is documented but is not a route of the hub")
        assert endpoint == "datasets.query", (method, path)
        documented.add(("/api/v1/datasets/{dataset_id}/query", method))
    prefixes = ("/api/", "/healthz", "/readyz", "/metrics")
    published = {
        (path, method)
        for path, method in routes
        if path.startswith(prefixes) and path not in UNDOCUMENTED
    }
    assert published == documented


Check = Callable[[TestResponse, str, str], Any]


@pytest.fixture
def check(hub: Flask) -> Check:
    """Assert that an answer is documented for its operation and matches its schema."""
    spec = _spec(hub.test_client())

    def check(response: TestResponse, method: str, path: str) -> Any:
        operation = spec["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], (method, path, status, response.get_data())
        content = operation["responses"][status]["content"]
        assert response.mimetype in content, (method, path, response.mimetype)
        if response.mimetype == "text/csv":
            return response.get_data(as_text=True)
        schema = {**content[response.mimetype]["schema"], "components": spec["components"]}
        body = response.get_json()
        jsonschema.validate(
            body,
            schema,
            cls=jsonschema.Draft202012Validator,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        return body

    return check


def test_health_answers_match_the_document(api: FlaskClient, check: Check) -> None:
    check(api.get("/healthz"), "get", "/healthz")
    check(api.get("/readyz"), "get", "/readyz")


def test_citizen_answers_match_the_document(
    hub: Flask,
    api: FlaskClient,
    check: Check,
    db: Database,
    settings: Settings,
    agency: App,
    people: dict[str, str],
    token_for: Callable[..., str],
) -> None:
    from hub.governance import service

    an = people["citizen_level1"]
    with db.transaction() as conn:
        consent = service.record_data_consent(
            conn,
            settings=settings,
            account_id=an,
            client_id=agency.client_id,
            dataset_id="dan-cu",
            purpose="1.001234",
            fields=["full_name"],
            text_shown="Tôi đồng ý.",
        )
    me = {"Authorization": f"Bearer {user_token(db, settings, agency.client_id, an, 'my_data')}"}
    check(api.get("/api/v1/me/data-access", headers=me), "get", "/api/v1/me/data-access")
    check(
        api.get("/api/v1/me/organizations/data-access", headers=me),
        "get",
        "/api/v1/me/organizations/data-access",
    )
    listed = check(
        api.get("/api/v1/me/data-consents", headers=me), "get", "/api/v1/me/data-consents"
    )
    assert [c["id"] for c in listed["data_consents"]] == [consent.id]
    withdraw = "/api/v1/me/data-consents/{consent_id}/withdraw"
    done = api.post(f"/api/v1/me/data-consents/{consent.id}/withdraw", headers=me)
    assert check(done, "post", withdraw) == {"withdrawn": consent.id}
    unknown = api.post("/api/v1/me/data-consents/nope/withdraw", headers=me)
    assert check(unknown, "post", withdraw)["code"] == "unknown_consent"
    # The refusals are the documented problems.
    assert check(api.get("/api/v1/me/data-access"), "get", "/api/v1/me/data-access")["code"] == (
        "invalid_token"
    )
    app_only = {"Authorization": f"Bearer {token_for('dataset:dan-cu')}"}
    refused = check(
        api.get("/api/v1/me/data-access", headers=app_only), "get", "/api/v1/me/data-access"
    )
    assert refused["code"] == "user_token_required"
    no_scope = user_token(db, settings, agency.client_id, an, "openid")
    refused = check(
        api.get("/api/v1/me/data-consents", headers={"Authorization": f"Bearer {no_scope}"}),
        "get",
        "/api/v1/me/data-consents",
    )
    assert refused["code"] == "insufficient_scope"


def test_admin_answers_match_the_document(
    api: FlaskClient,
    check: Check,
    db: Database,
    settings: Settings,
    agency: App,
    staff: dict[str, str],
    bearer: Callable[..., dict[str, str]],
) -> None:
    admin, owner, developer = (
        bearer(staff["admin"]),
        bearer(staff["owner"]),
        bearer(staff["developer"]),
    )
    auditor = bearer(staff["auditor"])
    made = api.post(
        f"{ADMIN}/grants",
        json={"client_id": agency.client_id, "dataset_id": "dan-cu", "daily_quota": 10},
        headers=admin,
    )
    grant_id = check(made, "post", f"{ADMIN}/grants")["id"]
    check(api.get(f"{ADMIN}/grants", headers=admin), "get", f"{ADMIN}/grants")
    shown = api.get(f"{ADMIN}/grants/{grant_id}", headers=owner)
    check(shown, "get", f"{ADMIN}/grants/{{grant_id}}")
    check(api.get(f"{ADMIN}/grants/nope", headers=admin), "get", f"{ADMIN}/grants/{{grant_id}}")
    revoked = api.post(f"{ADMIN}/grants/{grant_id}/revoke", json={"reason": "x"}, headers=owner)
    check(revoked, "post", f"{ADMIN}/grants/{{grant_id}}/revoke")
    bad = api.post(f"{ADMIN}/grants", json={"client_id": agency.client_id}, headers=admin)
    assert check(bad, "post", f"{ADMIN}/grants")["status"] == 400
    refused = api.post(
        f"{ADMIN}/grants", json={"client_id": "x", "dataset_id": "dan-cu"}, headers=auditor
    )
    assert check(refused, "post", f"{ADMIN}/grants")["code"] == "role_required"

    body = {
        "client_id": agency.client_id,
        "dataset_id": "dan-cu",
        "fields": ["full_name", "birth_date"],
        "purposes": ["1.001234"],
        "legal_basis": "Luật Cư trú 2020, Điều 22",
        "justification": "Xác minh thông tin công dân.",
        "contact": "dev@motcua.example.vn",
    }
    submitted = api.post(f"{ADMIN}/access-requests", json=body, headers=developer)
    request_id = check(submitted, "post", f"{ADMIN}/access-requests")["id"]
    check(api.get(f"{ADMIN}/access-requests", headers=owner), "get", f"{ADMIN}/access-requests")
    one = api.get(f"{ADMIN}/access-requests/{request_id}", headers=owner)
    check(one, "get", f"{ADMIN}/access-requests/{{request_id}}")
    approve = f"{ADMIN}/access-requests/{{request_id}}/approve"
    approved = api.post(f"{ADMIN}/access-requests/{request_id}/approve", json={}, headers=owner)
    check(approved, "post", approve)
    again = api.post(f"{ADMIN}/access-requests/{request_id}/approve", json={}, headers=owner)
    assert check(again, "post", approve)["code"] == "request_decided"
    second = api.post(f"{ADMIN}/access-requests", json=body, headers=developer).get_json()["id"]
    refuse = api.post(
        f"{ADMIN}/access-requests/{second}/refuse", json={"reasons": "Không."}, headers=owner
    )
    check(refuse, "post", f"{ADMIN}/access-requests/{{request_id}}/refuse")

    roles = f"{ADMIN}/accounts/{{account_id}}/roles"
    account = staff["auditor"]
    check(api.get(f"{ADMIN}/accounts/{account}/roles", headers=admin), "get", roles)
    assigned = api.post(
        f"{ADMIN}/accounts/{account}/roles",
        json={"role": "data_owner", "agency_code": "C06"},
        headers=admin,
    )
    check(assigned, "post", roles)
    removed = api.delete(
        f"{ADMIN}/accounts/{account}/roles?role=data_owner&agency_code=C06", headers=admin
    )
    check(removed, "delete", roles)

    added = api.post(
        f"{ADMIN}/clients/{agency.client_id}/developers",
        json={"account_id": staff["auditor"]},
        headers=admin,
    )
    check(added, "post", f"{ADMIN}/clients/{{client_id}}/developers")
    secret = api.post(f"{ADMIN}/clients/{agency.client_id}/secret", headers=developer)
    check(secret, "post", f"{ADMIN}/clients/{{client_id}}/secret")

    check(api.get(f"{ADMIN}/procedures", headers=auditor), "get", f"{ADMIN}/procedures")
    check(api.get(f"{ADMIN}/holidays?year=2026", headers=auditor), "get", f"{ADMIN}/holidays")
    day = f"{ADMIN}/holidays/{{day}}"
    declared = api.put(
        f"{ADMIN}/holidays/2026-11-20", json={"name_vi": "Ngày Nhà giáo"}, headers=admin
    )
    check(declared, "put", day)
    check(api.delete(f"{ADMIN}/holidays/2026-11-20", headers=admin), "delete", day)
    check(api.delete(f"{ADMIN}/holidays/not-a-day", headers=admin), "delete", day)

    found = check(api.get(f"{ADMIN}/audit?limit=5", headers=auditor), "get", f"{ADMIN}/audit")
    assert found["total"] >= 1
    check(api.get(f"{ADMIN}/audit?limit=0", headers=auditor), "get", f"{ADMIN}/audit")
    text = check(api.get(f"{ADMIN}/audit.csv", headers=auditor), "get", f"{ADMIN}/audit.csv")
    assert text.splitlines()[0]

"""OpenAPI 3.1 at /api/openapi.json and the interactive page at /api/docs."""

from __future__ import annotations

import re

import jsonschema
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from tests.datasets.conftest import AN, TokenFactory, query


def test_openapi_document_is_valid_3_1(api: FlaskClient) -> None:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert {"/api/v1/datasets", "/api/v1/datasets/{dataset_id}"} <= set(spec["paths"])
    operation = spec["paths"]["/api/v1/datasets/dan-cu/query"]["post"]
    assert operation["security"][0] == {"oauth2": ["dataset:dan-cu"]}
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/dan-cu.QueryRequest"
    }
    assert "application/problem+json" in operation["responses"]["400"]["content"]
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    schemas = spec["components"]["schemas"]
    for name in ("Problem", "Meta", "dan-cu.Params", "dan-cu.Data", "doanh-nghiep.QueryAnswer"):
        assert name in schemas
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "http://localhost/oauth2/token"
    assert flows["authorizationCode"]["authorizationUrl"] == "http://localhost/oauth2/authorize"
    assert "dataset:bao-hiem-xa-hoi" in flows["clientCredentials"]["scopes"]


def test_real_answers_and_problems_match_the_published_schemas(
    api: FlaskClient, token_for: TokenFactory
) -> None:
    spec = api.get("/api/openapi.json").get_json()

    def check(instance: object, name: str) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
        jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)

    token = token_for("dataset:dan-cu", "dataset:doanh-nghiep")
    check(query(api, "dan-cu", AN, token=token).get_json(), "dan-cu.QueryAnswer")
    check(
        query(api, "dan-cu", {**AN, "ho_va_ten": "X"}, token=token).get_json(), "dan-cu.QueryAnswer"
    )
    found = query(api, "doanh-nghiep", {"ma_so_thue": "0108888888"}, token=token).get_json()
    check(found, "doanh-nghiep.QueryAnswer")
    check(query(api, "dan-cu", {}, token=token).get_json(), "Problem")
    check(api.get("/api/v1/datasets").get_json(), "Catalogue")
    check(api.get("/api/v1/datasets/dan-cu").get_json(), "DatasetDescription")


def test_docs_page_uses_local_assets_only(api: FlaskClient) -> None:
    page = api.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    assets = re.findall(r'(?:src|href)="(/api/docs/assets/[^"]+)"', html)
    assert sorted(assets) == ["/api/docs/assets/apidocs.css", "/api/docs/assets/apidocs.js"]
    for asset in assets:
        response = api.get(asset)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert not re.search(r"https?://", body)
    assert "/api/openapi.json" in api.get("/api/docs/assets/apidocs.js").get_data(as_text=True)
    assert not re.search(r'(?:src|href)="https?://', html)
    assert api.get("/api/docs/assets/index.html").status_code == 404
    assert api.get("/api/docs/assets/..%2Fapp.py").status_code == 404

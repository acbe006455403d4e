"""OpenAPI 3.1 of the public shared-data API, generated from the stored dataset definitions."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from connectors.definition import DatasetDefinition
from connectors.schemas import (
    example_record,
    example_request,
    input_json_schema,
    output_json_schema,
)
from hub.config import Settings
from hub.datasets import store
from hub.datasets.schemas import TEXT_PATTERN
from hub.datasets.service import DatasetRuntime, scope_for
from hub.db import Connection

PROBLEM = "application/problem+json"
REF = "#/components/schemas/"

ERROR_CODES = {
    400: "invalid_params, invalid_body, invalid_header or missing_purpose",
    401: "invalid_token: the bearer token is missing, malformed, expired or revoked",
    403: (
        "insufficient_scope: the token lacks the dataset:<id> scope; or not_permitted, "
        "purpose_not_permitted, consent_required or subject_mismatch (governance)"
    ),
    404: "unknown_dataset",
    413: "payload_too_large",
    429: "quota_exceeded: the grant's daily quota is spent (with Retry-After)",
    502: "upstream_unavailable, upstream_fault or upstream_invalid_response",
    503: (
        "circuit_open (with Retry-After), dataset_disabled, dataset_unavailable, "
        "upstream_unavailable, token_verification_unavailable"
    ),
    504: "upstream_timeout",
}


def _hub_version() -> str:
    try:
        return package_version("lgsp-hub")
    except PackageNotFoundError:
        return "0"


def document(conn: Connection, *, runtime: DatasetRuntime, settings: Settings) -> dict[str, Any]:
    """Return the OpenAPI document for the enabled datasets (cached per set of versions)."""
    datasets = store.list_datasets(conn, enabled_only=True)
    key = (settings.issuer, tuple((d.id, d.current_version, d.checksum) for d in datasets))
    cached = runtime.openapi_cache
    if cached is not None and cached[0] == key:
        return cached[1]
    definitions = []
    for ds in datasets:
        try:
            definitions.append((runtime.definition_of(ds), ds.current_version))
        except Exception:  # noqa: BLE001, S112 - one bad definition must not hide the rest
            continue
    doc = build(definitions, issuer=settings.issuer)
    runtime.openapi_cache = (key, doc)
    return doc


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _problem_response(description: str, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM: {"schema": _ref("Problem")}},
    }
    if headers:
        out["headers"] = headers
    return out


def _text_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"vi": {"type": "string"}, "en": {"type": "string"}},
        "required": ["vi", "en"],
    }


def _common_schemas() -> dict[str, Any]:
    summary_props: dict[str, Any] = {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9]*(-[a-z0-9]+)*$"},
        "title": _ref("Text"),
        "description": _ref("Text"),
        "owner": _ref("Owner"),
        "version": {"type": "integer", "minimum": 1},
        "enabled": {"type": "boolean"},
        "scope": {"type": "string"},
        "personal_data": {"type": "boolean"},
    }
    field_schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "type": {"type": "string"},
            "description": {"anyOf": [_ref("Text"), {"type": "null"}]},
            "personal": {"type": "boolean"},
            "sensitive": {"type": "boolean"},
        },
        "required": ["name", "type", "personal", "sensitive"],
    }
    return {
        "Text": _text_schema(),
        "Owner": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
            "required": ["code", "name"],
        },
        "DatasetSummary": {
            "type": "object",
            "properties": summary_props,
            "required": list(summary_props),
        },
        "Catalogue": {
            "type": "object",
            "properties": {"datasets": {"type": "array", "items": _ref("DatasetSummary")}},
            "required": ["datasets"],
        },
        "DatasetDescription": {
            "type": "object",
            "properties": {
                **summary_props,
                "definition_version": {"type": "string"},
                "kind": {"type": "string", "enum": ["soap", "rest"]},
                "fields": {"type": "array", "items": field_schema},
                "input_schema": {"type": "object"},
                "output_schema": {"type": "object"},
                "example": {"type": "object"},
                "timeout_seconds": {"type": "number"},
                "query_url": {"type": "string"},
            },
            "required": [*summary_props, "fields", "input_schema", "output_schema", "example"],
        },
        "Meta": {
            "type": "object",
            "properties": {
                "dataset": {"type": "string"},
                "version": {"type": "integer"},
                "request_id": {"type": "string"},
                "source": {"type": "string"},
                "retrieved_at": {"type": "string", "format": "date-time"},
                "cached": {"type": "boolean"},
                "fields_withheld": {"type": "array", "items": {"type": "string"}},
            },
            "required": [
                "dataset",
                "version",
                "request_id",
                "source",
                "retrieved_at",
                "cached",
                "fields_withheld",
            ],
        },
        "Problem": {
            "type": "object",
            "description": (
                "RFC 9457 problem details; `code` is stable, `origin` says where it failed."
            ),
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "request_id": {"type": "string"},
                "code": {"type": "string"},
                "origin": {"type": "string", "enum": ["client", "hub", "upstream"]},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "dataset": {"type": "string"},
                "scope": {"type": "string"},
                "fault_code": {"type": ["string", "null"]},
                "fault_string": {"type": ["string", "null"]},
            },
            "required": ["type", "title", "status", "detail"],
        },
    }


def _text_params(params: dict[str, Any]) -> dict[str, Any]:
    """The params schema with the API's rule that text params hold no control characters."""
    props = {}
    for name, prop in params.get("properties", {}).items():
        if prop.get("type") == "string" and "format" not in prop and "enum" not in prop:
            if "pattern" in prop:
                prop = {**prop, "allOf": [*prop.get("allOf", []), {"pattern": TEXT_PATTERN}]}
            else:
                prop = {**prop, "pattern": TEXT_PATTERN}
        props[name] = prop
    return {**params, "properties": props}


def _dataset_schemas(d: DatasetDefinition) -> dict[str, Any]:
    data = output_json_schema(d)
    data["title"] = d.title.en
    return {
        f"{d.id}.Params": _text_params(input_json_schema(d)),
        f"{d.id}.Data": data,
        f"{d.id}.QueryRequest": {
            "type": "object",
            "properties": {"params": _ref(f"{d.id}.Params")},
            "required": ["params"],
            "additionalProperties": False,
            "examples": [example_request(d)],
        },
        f"{d.id}.QueryAnswer": {
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["found", "not_found"]},
                "data": {"anyOf": [_ref(f"{d.id}.Data"), {"type": "null"}]},
                "meta": _ref("Meta"),
            },
            "required": ["status", "data", "meta"],
        },
    }


def _query_operation(d: DatasetDefinition, version: int) -> dict[str, Any]:
    scope = scope_for(d.id)
    personal = ", ".join(d.personal_fields) or "none"
    sensitive = ", ".join(d.sensitive_fields) or "none"
    return {
        "operationId": "query_" + d.id.replace("-", "_"),
        "summary": d.title.en,
        "description": (
            f"{d.description.en}\n\n*{d.title.vi}* — {d.description.vi}\n\n"
            f"Owner: {d.owner.name} ({d.owner.code}). Version {version}. "
            f"Requires scope `{scope}`. Personal fields: {personal}. Sensitive: {sensitive}."
        ),
        "tags": ["datasets"],
        "security": [{"oauth2": [scope]}, {"openid": [scope]}],
        "parameters": [
            {"$ref": "#/components/parameters/Purpose"},
            {"$ref": "#/components/parameters/OfficialId"},
            {"$ref": "#/components/parameters/RequestId"},
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": _ref(f"{d.id}.QueryRequest"),
                    "example": example_request(d),
                }
            },
        },
        "responses": {
            "200": {
                "description": "found (data holds the record) or not_found (data is null)",
                "content": {
                    "application/json": {
                        "schema": _ref(f"{d.id}.QueryAnswer"),
                        "example": {
                            "status": "found",
                            "data": example_record(d),
                            "meta": {
                                "dataset": d.id,
                                "version": version,
                                "request_id": "3f2b9c1e5d7a4b6c8e0f1a2b3c4d5e6f",
                                "source": d.owner.code,
                                "retrieved_at": "2025-07-01T08:00:00.000Z",
                                "cached": False,
                                "fields_withheld": [],
                            },
                        },
                    }
                },
            },
            **{
                str(status): _problem_response(
                    text,
                    headers=_error_headers(status),
                )
                for status, text in ERROR_CODES.items()
            },
        },
        "x-dataset": {"id": d.id, "version": version, "kind": d.upstream.kind},
    }


def _error_headers(status: int) -> dict[str, Any] | None:
    if status in (401, 403):
        return {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if status in (429, 503):
        return {
            "Retry-After": {
                "description": "Seconds until the call may be tried again.",
                "schema": {"type": "string"},
            }
        }
    return None


def build(datasets: list[tuple[DatasetDefinition, int]], *, issuer: str) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document for these (definition, stored version) pairs."""
    schemas = _common_schemas()
    paths: dict[str, Any] = {
        "/api/v1/datasets": {
            "get": {
                "operationId": "list_datasets",
                "summary": "Catalogue of datasets",
                "tags": ["catalogue"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The enabled datasets.",
                        "content": {"application/json": {"schema": _ref("Catalogue")}},
                    }
                },
            }
        },
        "/api/v1/datasets/{dataset_id}": {
            "get": {
                "operationId": "describe_dataset",
                "summary": "Description of a dataset: input and output schema, fields, example",
                "tags": ["catalogue"],
                "security": [],
                "parameters": [
                    {
                        "name": "dataset_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 64},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The dataset's description.",
                        "content": {"application/json": {"schema": _ref("DatasetDescription")}},
                    },
                    "404": _problem_response("unknown_dataset"),
                    "503": _problem_response("dataset_disabled or dataset_unavailable"),
                },
            }
        },
    }
    scopes: dict[str, str] = {}
    for d, version in datasets:
        schemas.update(_dataset_schemas(d))
        paths[f"/api/v1/datasets/{d.id}/query"] = {"post": _query_operation(d, version)}
        scopes[scope_for(d.id)] = f"Query {d.title.en}"
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "LGSP Hub shared-data API",
            "version": _hub_version(),
            "summary": "One uniform API over ministries' SOAP and REST services.",
            "description": (
                "Every dataset is queried with `POST /api/v1/datasets/{id}/query` and "
                '`{"params": {...}}`; the answer is `found` or `not_found` with `meta`. '
                "Errors are `application/problem+json` with a stable `code` and an `origin` "
                "(client, hub or upstream). Send a hub access token with scope "
                "`dataset:<id>` and the administrative-procedure code in `X-Purpose`."
            ),
        },
        "servers": [{"url": issuer}],
        "tags": [
            {"name": "catalogue", "description": "What can be asked, and how."},
            {"name": "datasets", "description": "One query operation per dataset."},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                "Purpose": {
                    "name": "X-Purpose",
                    "in": "header",
                    "required": True,
                    "description": "Administrative-procedure code the lookup serves.",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:/\\-]{1,64}$"},
                    "example": "1.001234",
                },
                "OfficialId": {
                    "name": "X-Official-Id",
                    "in": "header",
                    "required": False,
                    "description": (
                        "Identifier of the official handling the case; an empty value "
                        "counts as absent."
                    ),
                    "schema": {"type": "string", "pattern": "^([A-Za-z0-9._:/\\-]{1,64})?$"},
                },
                "RequestId": {
                    "name": "X-Request-Id",
                    "in": "header",
                    "required": False,
                    "description": (
                        "Caller's request id, echoed back when it is 8-128 of "
                        "A-Z a-z 0-9 . _ : -; any other value is replaced by one of the hub's."
                    ),
                    "schema": {"type": "string"},
                },
            },
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": "Hub access tokens (RFC 9068 JWT) with scope dataset:<id>.",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": f"{issuer}/oauth2/token",
                            "scopes": scopes,
                        },
                        "authorizationCode": {
                            "authorizationUrl": f"{issuer}/oauth2/authorize",
                            "tokenUrl": f"{issuer}/oauth2/token",
                            "scopes": scopes,
                        },
                    },
                },
                "openid": {
                    "type": "openIdConnect",
                    "openIdConnectUrl": f"{issuer}/.well-known/openid-configuration",
                },
            },
        },
    }

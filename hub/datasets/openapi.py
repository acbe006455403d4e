"""OpenAPI 3.1 of the public API: the datasets, /api/v1/me, the admin API and health."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from marshmallow import RAISE, Schema
from marshmallow import fields as ma_fields
from marshmallow import validate as ma_validate

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
from hub.governance import schemas as gov_schemas
from identity.oauth.scopes import GOVERNANCE_SCOPE, MY_DATA_SCOPE

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
    schemas = {**_common_schemas(), **_governance_schemas()}
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
    paths |= _me_paths() | _admin_paths() | _health_paths()
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
                "`dataset:<id>` and the administrative-procedure code in `X-Purpose`.\n\n"
                "The citizen's own data-use API (`/api/v1/me`, scope `my_data`) and the admin "
                "API (`/api/admin/v1`, scope `governance`) take the access token of a "
                "signed-in person. The OAuth 2.0 / OpenID Connect endpoints (authorize, token, "
                "userinfo, revocation, introspection, JWKS) are described by the discovery "
                "document, not here."
            ),
        },
        "externalDocs": {
            "description": "OpenID Connect discovery document of the hub's OAuth 2.0 server",
            "url": f"{issuer}/.well-known/openid-configuration",
        },
        "servers": [{"url": issuer}],
        "tags": [
            {"name": "catalogue", "description": "What can be asked, and how."},
            {"name": "datasets", "description": "One query operation per dataset."},
            {"name": "me", "description": "The signed-in citizen's own data use and consents."},
            {"name": "admin", "description": "Grants, access requests, roles, holidays, audit."},
            {"name": "health", "description": "Liveness and readiness for orchestrators."},
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
                "user": {
                    "type": "oauth2",
                    "description": USER_SECURITY_DESCRIPTION,
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": f"{issuer}/oauth2/authorize",
                            "tokenUrl": f"{issuer}/oauth2/token",
                            "scopes": {
                                MY_DATA_SCOPE: "Read one's own data-access log; withdraw consents",
                                GOVERNANCE_SCOPE: "The admin API, with the account's roles",
                            },
                        }
                    },
                },
                "openid": {
                    "type": "openIdConnect",
                    "openIdConnectUrl": f"{issuer}/.well-known/openid-configuration",
                },
            },
        },
    }


# The rest of the public API: health, the citizen's /api/v1/me and the admin API. Bodies and
# query strings are converted from the same marshmallow schemas the views load with.

USER_SECURITY_DESCRIPTION = (
    "Access token of a signed-in person (authorization-code flow) issued with this scope; "
    "an app-only token is refused with 403 user_token_required."
)

_FIELD_TYPES: dict[type[ma_fields.Field], dict[str, Any]] = {
    ma_fields.AwareDateTime: {"type": "string", "format": "date-time"},
    ma_fields.UUID: {"type": "string", "format": "uuid"},
    ma_fields.String: {"type": "string"},
    ma_fields.Integer: {"type": "integer"},
}


def field_json_schema(field: ma_fields.Field) -> dict[str, Any]:
    """JSON Schema 2020-12 of one marshmallow field of the kinds the governance API uses."""
    if isinstance(field, ma_fields.List):
        out: dict[str, Any] = {"type": "array", "items": field_json_schema(field.inner)}
        size = ("minItems", "maxItems")
    else:
        kind = next((k for k in _FIELD_TYPES if isinstance(field, k)), None)
        if kind is None:
            raise TypeError(f"no JSON Schema for {type(field).__name__}")
        out = dict(_FIELD_TYPES[kind])
        size = ("minLength", "maxLength")
    for validator in field.validators:
        if isinstance(validator, ma_validate.Length):
            if validator.min is not None:
                out[size[0]] = validator.min
            if validator.max is not None:
                out[size[1]] = validator.max
        elif isinstance(validator, ma_validate.Range):
            if validator.min is not None:
                out["minimum"] = validator.min
            if validator.max is not None:
                out["maximum"] = validator.max
        elif isinstance(validator, ma_validate.OneOf):
            out["enum"] = list(validator.choices)
    if field.allow_none:
        out["type"] = [out["type"], "null"]
    return out


def marshmallow_json_schema(schema: Schema) -> dict[str, Any]:
    """JSON Schema of what ``schema.load`` accepts (its data keys, required, unknown)."""
    props = {}
    required = []
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        props[key] = field_json_schema(field)
        if field.required:
            required.append(key)
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    if schema.unknown == RAISE:
        out["additionalProperties"] = False
    return out


def _query_parameters(schema: Schema) -> list[dict[str, Any]]:
    body = marshmallow_json_schema(schema)
    out = []
    for name, prop in body["properties"].items():
        # A query string cannot say null: an absent or empty parameter is the default.
        if isinstance(prop.get("type"), list):
            prop = {**prop, "type": prop["type"][0]}
        out.append(
            {
                "name": name,
                "in": "query",
                "required": name in body.get("required", ()),
                "schema": prop,
            }
        )
    return out


def _path_parameter(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(props: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
    }


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_OPT_TIME = {"type": ["string", "null"], "format": "date-time"}
_STRINGS = _array(_STR)


#: Request bodies of the admin API, as the views load them.
BODIES: dict[str, Schema] = {
    "GrantCreate": gov_schemas.GRANT_CREATE,
    "Revoke": gov_schemas.REVOKE,
    "AccessRequestSubmit": gov_schemas.ACCESS_REQUEST,
    "Approve": gov_schemas.APPROVE,
    "Refuse": gov_schemas.REFUSE,
    "Role": gov_schemas.ROLE,
    "ClientDeveloper": gov_schemas.CLIENT_DEVELOPER,
    "Holiday": gov_schemas.HOLIDAY,
}


def _governance_schemas() -> dict[str, Any]:
    data_access = _object(
        {
            "at": _TIME,
            "client_id": _OPT_STR,
            "client_name": _OPT_STR,
            "dataset_id": _OPT_STR,
            "dataset_title": _OPT_STR,
            "purpose": _OPT_STR,
            "purpose_name": _OPT_STR,
            "fields": _STRINGS,
            "on_behalf": {"type": "boolean"},
            "official_id": _OPT_STR,
        }
    )
    grant = _object(
        {
            "id": _STR,
            "client_id": _STR,
            "dataset_id": _STR,
            "fields": _STRINGS,
            "purposes": {**_STRINGS, "description": '["any"] when any purpose is allowed'},
            "legal_basis": _OPT_STR,
            "valid_from": _TIME,
            "valid_until": _OPT_TIME,
            "daily_quota": {"type": ["integer", "null"]},
            "access_request_id": _OPT_STR,
            "created_at": _TIME,
            "created_by": _STR,
            "revoked_at": _OPT_TIME,
            "revoked_by": _OPT_STR,
            "revoke_reason": _OPT_STR,
            "state": {"type": "string", "enum": ["active", "pending", "expired", "revoked"]},
        }
    )
    access_request = _object(
        {
            "id": _STR,
            "client_id": _STR,
            "dataset_id": _STR,
            "fields": _STRINGS,
            "purposes": _STRINGS,
            "legal_basis": _STR,
            "justification": _STR,
            "contact": _STR,
            "requested_by": _STR,
            "status": _STR,
            "overdue": {"type": "boolean"},
            "submitted_at": _TIME,
            "due_at": _TIME,
            "decided_at": _OPT_TIME,
            "decided_by": _OPT_STR,
            "decision_reason": _OPT_STR,
            "grant_id": _OPT_STR,
            "events": _array(
                _object({"at": _TIME, "kind": _STR, "actor": _STR, "detail": {"type": "object"}})
            ),
        }
    )
    audit_record = _object(
        {
            "seq": {"type": "integer"},
            "at": _TIME,
            "kind": _STR,
            "outcome": _STR,
            "error_code": _OPT_STR,
            "request_id": _OPT_STR,
            "client_id": _OPT_STR,
            "actor": _OPT_STR,
            "official_id": _OPT_STR,
            "organization": _OPT_STR,
            "subject_hash": _OPT_STR,
            "dataset_id": _OPT_STR,
            "dataset_version": {"type": ["integer", "null"]},
            "purpose": _OPT_STR,
            "fields": _STRINGS,
            "upstream_ms": {"type": ["integer", "null"]},
            "cache_hit": {"type": ["boolean", "null"]},
            "detail": {"type": "object"},
            "hash": _STR,
        }
    )
    return {
        "Health": _object({"status": {"const": "ok"}}),
        "Readiness": _object(
            {
                "status": {"const": "ready"},
                "checks": {
                    "type": "object",
                    "description": "One entry per check (database, upstreams, ...).",
                    "additionalProperties": {"type": "object"},
                },
            }
        ),
        "DataAccess": data_access,
        "DataAccessList": _object({"data_access": _array(_ref("DataAccess"))}),
        "OrganizationsDataAccess": _object(
            {
                "organizations": _array(
                    _object(
                        {"tax_code": _STR, "name": _STR, "data_access": _array(_ref("DataAccess"))}
                    )
                )
            }
        ),
        "DataConsent": _object(
            {
                "id": _STR,
                "client_id": _STR,
                "client_name": _OPT_STR,
                "dataset_id": _STR,
                "purpose": _STR,
                "fields": _STRINGS,
                "text_shown": _STR,
                "granted_at": _TIME,
                "withdrawn_at": _OPT_TIME,
            }
        ),
        "DataConsentList": _object({"data_consents": _array(_ref("DataConsent"))}),
        "Grant": grant,
        "AccessRequest": access_request,
        "AuditRecord": audit_record,
        **{name: marshmallow_json_schema(schema) for name, schema in BODIES.items()},
        "Roles": _object(
            {
                "account_id": _STR,
                "roles": _STRINGS,
                "agencies": _array(_object({"role": _STR, "agency_code": _STR})),
                "clients": _STRINGS,
            }
        ),
    }


def _user_errors(scope: str, *, invalid: bool, **more: str) -> dict[str, Any]:
    forbidden = f"user_token_required (an app-only token), insufficient_scope (no `{scope}` scope)"
    if "403" in more:
        forbidden += "; " + more.pop("403")
    out = {}
    if invalid or "400" in more:
        out["400"] = _problem_response(more.pop("400", "invalid_request: see errors"))
    out |= {
        "401": _problem_response(
            "invalid_token: the bearer token is missing, malformed, expired or revoked"
        ),
        "403": _problem_response(forbidden),
    }
    out.update({status: _problem_response(text) for status, text in more.items()})
    out["503"] = _problem_response(
        "database_unavailable",
        headers=_error_headers(503),
    )
    return out


def _user_operation(
    operation_id: str,
    summary: str,
    *,
    scope: str,
    ok: dict[str, Any],
    ok_status: str = "200",
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["me" if scope == MY_DATA_SCOPE else "admin"],
        "security": [{"user": [scope]}],
        "responses": {
            ok_status: ok,
            **_user_errors(scope, invalid=body is not None, **(errors or {})),
        },
    }
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        # The views load an empty body as {}: it is required only with required fields.
        out["requestBody"] = {
            "required": any(f.required for f in BODIES[body].load_fields.values()),
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return out


def _health_paths() -> dict[str, Any]:
    return {
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness: the process answers (says nothing about dependencies)",
                "tags": ["health"],
                "security": [],
                "responses": {"200": _json(_ref("Health"), "Alive.")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness: database reachable, migrations current, other checks",
                "tags": ["health"],
                "security": [],
                "responses": {
                    "200": _json(_ref("Readiness"), "Ready; `checks` holds each check's detail."),
                    "503": _problem_response(
                        "not_ready: a check failed; the problem's `checks` says which"
                    ),
                },
            }
        },
    }


def _me_paths() -> dict[str, Any]:
    me = MY_DATA_SCOPE
    return {
        "/api/v1/me/data-access": {
            "get": _user_operation(
                "my_data_access",
                "Every access to the signed-in citizen's data",
                scope=me,
                ok=_json(_ref("DataAccessList"), "Newest first."),
            )
        },
        "/api/v1/me/organizations/data-access": {
            "get": _user_operation(
                "my_organizations_data_access",
                "Every access to the data of the organizations the person legally represents",
                scope=me,
                ok=_json(_ref("OrganizationsDataAccess"), "One entry per organization."),
            )
        },
        "/api/v1/me/data-consents": {
            "get": _user_operation(
                "my_data_consents",
                "The signed-in citizen's data consents",
                scope=me,
                ok=_json(_ref("DataConsentList"), "Given and withdrawn consents."),
            )
        },
        "/api/v1/me/data-consents/{consent_id}/withdraw": {
            "post": _user_operation(
                "withdraw_my_data_consent",
                "Withdraw a data consent: the app's next call is refused",
                scope=me,
                parameters=[_path_parameter("consent_id")],
                ok=_json(_object({"withdrawn": _STR}), "Withdrawn (again: no change)."),
                errors={"404": "unknown_consent: not one of the citizen's consents"},
            )
        },
    }


def _admin_paths() -> dict[str, Any]:
    gov = GOVERNANCE_SCOPE
    admin = "/api/admin/v1"
    roles_403 = "role_required, or level_required (an admin signed in at level 1)"
    grant_id = [_path_parameter("grant_id")]
    request_id = [_path_parameter("request_id")]
    account_id = [_path_parameter("account_id")]
    client_id = [_path_parameter("client_id")]
    day = [_path_parameter("day", {"type": "string", "format": "date"})]
    grant_filters = [
        {"name": "client_id", "in": "query", "required": False, "schema": _STR},
        {"name": "dataset_id", "in": "query", "required": False, "schema": _STR},
        {
            "name": "include_revoked",
            "in": "query",
            "required": False,
            "description": "`1` or `true` also lists revoked grants.",
            "schema": _STR,
        },
    ]
    audit_filters = _query_parameters(gov_schemas.AUDIT_QUERY)
    decided = "request_decided: the request was already decided"
    return {
        f"{admin}/grants": {
            "get": _user_operation(
                "list_grants",
                "Grants the caller may see",
                scope=gov,
                parameters=grant_filters,
                ok=_json(_object({"grants": _array(_ref("Grant"))}), "The grants."),
                errors={"403": roles_403},
            ),
            "post": _user_operation(
                "create_grant",
                "Create a grant (admin, or the dataset's data owner)",
                scope=gov,
                body="GrantCreate",
                ok=_json(_ref("Grant"), "Created."),
                ok_status="201",
                errors={"403": roles_403, "404": "not_found: unknown client or dataset"},
            ),
        },
        f"{admin}/grants/{{grant_id}}": {
            "get": _user_operation(
                "show_grant",
                "One grant",
                scope=gov,
                parameters=grant_id,
                ok=_json(_ref("Grant"), "The grant."),
                errors={"403": roles_403, "404": "unknown_grant"},
            )
        },
        f"{admin}/grants/{{grant_id}}/revoke": {
            "post": _user_operation(
                "revoke_grant",
                "Revoke a grant; the app's next call is refused",
                scope=gov,
                parameters=grant_id,
                body="Revoke",
                ok=_json(_ref("Grant"), "The revoked grant."),
                errors={"403": roles_403, "404": "unknown_grant"},
            )
        },
        f"{admin}/access-requests": {
            "get": _user_operation(
                "list_access_requests",
                "The data owner's inbox, the developer's requests, or all (admin, auditor)",
                scope=gov,
                parameters=[{"name": "status", "in": "query", "required": False, "schema": _STR}],
                ok=_json(
                    _object({"access_requests": _array(_ref("AccessRequest"))}), "The requests."
                ),
                errors={"403": roles_403},
            ),
            "post": _user_operation(
                "submit_access_request",
                "A developer asks for access for one of his apps",
                scope=gov,
                body="AccessRequestSubmit",
                ok=_json(_ref("AccessRequest"), "Submitted."),
                ok_status="201",
                errors={"403": roles_403, "404": "not_found: unknown client or dataset"},
            ),
        },
        f"{admin}/access-requests/{{request_id}}": {
            "get": _user_operation(
                "show_access_request",
                "One request with its history (events)",
                scope=gov,
                parameters=request_id,
                ok=_json(_ref("AccessRequest"), "The request."),
                errors={"403": roles_403, "404": "unknown_access_request"},
            )
        },
        f"{admin}/access-requests/{{request_id}}/approve": {
            "post": _user_operation(
                "approve_access_request",
                "The data owner approves, possibly narrower than asked; a grant is created",
                scope=gov,
                parameters=request_id,
                body="Approve",
                ok=_json(
                    _object({"access_request": _ref("AccessRequest"), "grant": _ref("Grant")}),
                    "Approved, with the new grant.",
                ),
                errors={"403": roles_403, "404": "unknown_access_request", "409": decided},
            )
        },
        f"{admin}/access-requests/{{request_id}}/refuse": {
            "post": _user_operation(
                "refuse_access_request",
                "The data owner refuses in writing, with reasons",
                scope=gov,
                parameters=request_id,
                body="Refuse",
                ok=_json(_ref("AccessRequest"), "Refused."),
                errors={"403": roles_403, "404": "unknown_access_request", "409": decided},
            )
        },
        f"{admin}/accounts/{{account_id}}/roles": {
            "get": _user_operation(
                "show_roles",
                "An account's governance roles (admin)",
                scope=gov,
                parameters=account_id,
                ok=_json(_ref("Roles"), "The roles."),
                errors={"403": roles_403, "404": "not_found: no such account"},
            ),
            "post": _user_operation(
                "assign_role",
                "Give an account a role (admin)",
                scope=gov,
                parameters=account_id,
                body="Role",
                ok=_json(_ref("Roles"), "The account's roles now."),
                errors={"403": roles_403, "404": "not_found: no such account or agency"},
            ),
            "delete": _user_operation(
                "remove_role",
                "Take a role away from an account (admin)",
                scope=gov,
                parameters=account_id + _query_parameters(gov_schemas.ROLE),
                ok=_json(_ref("Roles"), "The account's roles now."),
                errors={
                    "400": "invalid_request: see errors",
                    "403": roles_403,
                    "404": "not_found: no such account",
                },
            ),
        },
        f"{admin}/clients/{{client_id}}/developers": {
            "post": _user_operation(
                "add_client_developer",
                "Let an account manage an app (admin)",
                scope=gov,
                parameters=client_id,
                body="ClientDeveloper",
                ok=_json(_object({"client_id": _STR, "account_id": _STR}), "Added."),
                ok_status="201",
                errors={"403": roles_403, "404": "not_found: no such client or account"},
            )
        },
        f"{admin}/clients/{{client_id}}/secret": {
            "post": _user_operation(
                "rotate_client_secret",
                "A new client secret, shown only in this answer (its developer, or an admin)",
                scope=gov,
                parameters=client_id,
                ok=_json(_object({"client_id": _STR, "client_secret": _STR}), "The new secret."),
                errors={"403": roles_403, "404": "not_found: no such client"},
            )
        },
        f"{admin}/procedures": {
            "get": _user_operation(
                "list_procedures",
                "The administrative procedures a purpose may name (any signed-in person)",
                scope=gov,
                ok=_json(
                    _object(
                        {
                            "procedures": _array(
                                _object({"code": _STR, "name_vi": _STR, "name_en": _OPT_STR})
                            )
                        }
                    ),
                    "Every known procedure.",
                ),
            )
        },
        f"{admin}/holidays": {
            "get": _user_operation(
                "list_holidays",
                "Every weekday off in a year (default this one), and why",
                scope=gov,
                parameters=_query_parameters(gov_schemas.HOLIDAY_YEAR),
                errors={"400": "invalid_request: year is not a year 1900-2200"},
                ok=_json(
                    _object(
                        {
                            "year": {"type": "integer"},
                            "days_off": _array(
                                _object(
                                    {
                                        "day": {"type": "string", "format": "date"},
                                        "name_vi": _STR,
                                        "name_en": _STR,
                                        "source": {
                                            "type": "string",
                                            "enum": ["fixed", "declared", "moved"],
                                        },
                                    }
                                )
                            ),
                        }
                    ),
                    "The days off.",
                ),
            )
        },
        f"{admin}/holidays/{{day}}": {
            "put": _user_operation(
                "declare_holiday",
                "Declare (or rename) a public holiday (admin)",
                scope=gov,
                parameters=day,
                body="Holiday",
                ok=_json(_object({"day": _STR, "name_vi": _STR}), "Declared."),
                errors={"403": roles_403},
            ),
            "delete": _user_operation(
                "remove_holiday",
                "Withdraw a declared public holiday (admin)",
                scope=gov,
                parameters=day,
                ok=_json(_object({"removed": _STR}), "Withdrawn."),
                errors={
                    "400": "invalid_request: the day is not YYYY-MM-DD",
                    "403": roles_403,
                    "404": "not_found: no such declared holiday",
                },
            ),
        },
        f"{admin}/audit": {
            "get": _user_operation(
                "search_audit",
                "Search the audit log (auditor, admin)",
                scope=gov,
                parameters=audit_filters,
                ok=_json(
                    _object({"records": _array(_ref("AuditRecord")), "total": {"type": "integer"}}),
                    "One page of matching records and the total.",
                ),
                errors={"400": "invalid_request: see errors", "403": roles_403},
            )
        },
        f"{admin}/audit.csv": {
            "get": _user_operation(
                "export_audit_csv",
                "Every matching audit record as CSV, oldest first (auditor, admin), streamed",
                scope=gov,
                parameters=audit_filters,
                ok={
                    "description": (
                        "CSV with a header row; cells starting with = + - @ are prefixed with '."
                    ),
                    "headers": {"Content-Disposition": {"schema": _STR}},
                    "content": {"text/csv": {"schema": _STR}},
                },
                errors={"400": "invalid_request: see errors", "403": roles_403},
            )
        },
    }

"""The governance JSON APIs: /api/admin/v1 (grants, access requests, roles, audit) and /api/v1/me.

Authenticated with hub access tokens of a signed-in person (authorization-code flow); the
roles of the person's account decide what each endpoint allows. Views parse, call one
service function and dump its result.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError

from hub.audit import service as audit_service
from hub.audit.models import AuditRecord
from hub.config import Settings
from hub.errors import PermissionDeniedError, ValidationError
from hub.governance import schemas, service
from hub.governance.models import Principal
from hub.http import database, get_conn
from identity.oauth.scopes import GOVERNANCE_SCOPE, MY_DATA_SCOPE
from identity.oauth.tokens import AccessClaims, InvalidTokenError, verify_access_token

bp = Blueprint("governance", __name__)
ADMIN = "/api/admin/v1"


class UserTokenRequiredError(PermissionDeniedError):
    """This API needs the access token of a signed-in person, not of an app alone."""

    code = "user_token_required"
    title = "User token required"


def _settings() -> Settings:
    settings: Settings = current_app.extensions["lgsp.settings"]
    return settings


class ScopeRequiredError(PermissionDeniedError):
    """The token was not issued for this API (its client did not ask for the scope)."""

    code = "insufficient_scope"
    title = "Insufficient scope"


def _claims(scope: str) -> AccessClaims:
    """The verified token of a signed-in person, issued with ``scope``: a token an agency
    app got for its own purposes never doubles as the person's key to these APIs."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("Send a hub access token: Authorization: Bearer <token>.")
    claims = verify_access_token(get_conn(), token.strip(), settings=_settings())
    if claims.account_id is None:
        raise UserTokenRequiredError()
    if scope not in claims.scopes:
        raise ScopeRequiredError(f"The access token lacks the scope {scope}.", scope=scope)
    return claims


def _principal() -> Principal:
    claims = _claims(GOVERNANCE_SCOPE)
    assert claims.account_id is not None
    return service.principal_for_account(
        get_conn(),
        account_id=claims.account_id,
        level=claims.level,
        actor=f"account:{claims.account_id}",
        client_id=claims.client_id,
    )


def _load(schema: Schema, data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError("The body must be a JSON object.")
    try:
        loaded: dict[str, Any] = schema.load(data)
    except SchemaError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"body": exc.messages}
        raise ValidationError(
            "The request is invalid; see errors.",
            errors={str(k): v for k, v in messages.items()},
        ) from exc
    return loaded


def _body(schema: Schema) -> dict[str, Any]:
    return _load(schema, request.get_json(silent=True) if request.data else {})


def _now() -> datetime:
    return datetime.now(UTC)


@bp.get(f"{ADMIN}/grants")
def grants_list() -> Response:
    """Grants the caller may see."""
    grants = service.list_grants(
        get_conn(),
        actor=_principal(),
        client_id=request.args.get("client_id") or None,
        dataset_id=request.args.get("dataset_id") or None,
        include_revoked=request.args.get("include_revoked") in ("1", "true"),
    )
    now = _now()
    return jsonify(grants=[g.to_dict(now) for g in grants])


@bp.post(f"{ADMIN}/grants")
def grants_create() -> tuple[Response, int]:
    """Create a grant (admin, or the dataset's data owner)."""
    actor = _principal()
    body = _body(schemas.GRANT_CREATE)
    grant = service.grant_access(
        get_conn(),
        actor=actor,
        settings=_settings(),
        client_id=body["client_id"],
        dataset_id=body["dataset_id"],
        fields=body["fields_"],
        purposes=body["purposes"],
        legal_basis=body["legal_basis"],
        valid_from=body["valid_from"],
        valid_until=body["valid_until"],
        daily_quota=body["daily_quota"],
    )
    return jsonify(grant.to_dict(_now())), 201


@bp.get(f"{ADMIN}/grants/<grant_id>")
def grants_show(grant_id: str) -> Response:
    """One grant."""
    grant = service.get_grant(get_conn(), actor=_principal(), grant_id=grant_id)
    return jsonify(grant.to_dict(_now()))


@bp.post(f"{ADMIN}/grants/<grant_id>/revoke")
def grants_revoke(grant_id: str) -> Response:
    """Revoke a grant; the app's next call is refused."""
    actor = _principal()
    body = _body(schemas.REVOKE)
    grant = service.revoke_grant(
        get_conn(), actor=actor, settings=_settings(), grant_id=grant_id, reason=body["reason"]
    )
    return jsonify(grant.to_dict(_now()))


@bp.get(f"{ADMIN}/access-requests")
def requests_list() -> Response:
    """The caller's inbox (data owner), his requests (developer), or all (admin, auditor)."""
    found = service.list_access_requests(
        get_conn(), actor=_principal(), status=request.args.get("status") or None
    )
    now = _now()
    return jsonify(access_requests=[r.to_dict(now) for r in found])


@bp.post(f"{ADMIN}/access-requests")
def requests_submit() -> tuple[Response, int]:
    """A developer asks for access for one of his apps."""
    actor = _principal()
    body = _body(schemas.ACCESS_REQUEST)
    created = service.submit_access_request(
        get_conn(),
        actor=actor,
        settings=_settings(),
        client_id=body["client_id"],
        dataset_id=body["dataset_id"],
        fields=body["fields_"],
        purposes=body["purposes"],
        legal_basis=body["legal_basis"],
        justification=body["justification"],
        contact=body["contact"],
    )
    shown = service.get_access_request(get_conn(), actor=actor, request_id=created.id)
    return jsonify(shown.to_dict(_now())), 201


@bp.get(f"{ADMIN}/access-requests/<request_id>")
def requests_show(request_id: str) -> Response:
    """One request with its history."""
    found = service.get_access_request(get_conn(), actor=_principal(), request_id=request_id)
    return jsonify(found.to_dict(_now()))


@bp.post(f"{ADMIN}/access-requests/<request_id>/approve")
def requests_approve(request_id: str) -> Response:
    """The data owner approves, possibly narrower than asked; a grant is created."""
    actor = _principal()
    body = _body(schemas.APPROVE)
    decided, grant = service.approve_access_request(
        get_conn(),
        actor=actor,
        settings=_settings(),
        request_id=request_id,
        fields=body["fields_"],
        purposes=body["purposes"],
        valid_until=body["valid_until"],
        daily_quota=body["daily_quota"],
        note=body["note"],
    )
    now = _now()
    return jsonify(access_request=decided.to_dict(now), grant=grant.to_dict(now))


@bp.post(f"{ADMIN}/access-requests/<request_id>/refuse")
def requests_refuse(request_id: str) -> Response:
    """The data owner refuses in writing, with reasons."""
    actor = _principal()
    body = _body(schemas.REFUSE)
    decided = service.refuse_access_request(
        get_conn(),
        actor=actor,
        settings=_settings(),
        request_id=request_id,
        reasons=body["reasons"],
        legal_basis=body["legal_basis"],
    )
    return jsonify(decided.to_dict(_now()))


@bp.get(f"{ADMIN}/accounts/<account_id>/roles")
def roles_show(account_id: str) -> Response:
    """An account's governance roles (admin)."""
    actor = _principal()
    service.require_any_role(actor, "admin")
    return jsonify(service.describe_roles(get_conn(), account_id=account_id))


@bp.post(f"{ADMIN}/accounts/<account_id>/roles")
def roles_assign(account_id: str) -> Response:
    """Give an account a role (admin)."""
    actor = _principal()
    body = _body(schemas.ROLE)
    return jsonify(
        service.assign_role(
            get_conn(),
            actor=actor,
            settings=_settings(),
            account_id=account_id,
            role=body["role"],
            agency_code=body["agency_code"],
        )
    )


@bp.delete(f"{ADMIN}/accounts/<account_id>/roles")
def roles_remove(account_id: str) -> Response:
    """Take a role away from an account (admin)."""
    actor = _principal()
    body = _load(schemas.ROLE, request.args.to_dict())
    return jsonify(
        service.remove_role(
            get_conn(),
            actor=actor,
            settings=_settings(),
            account_id=account_id,
            role=body["role"],
            agency_code=body["agency_code"],
        )
    )


@bp.post(f"{ADMIN}/clients/<client_id>/developers")
def client_developers_add(client_id: str) -> tuple[Response, int]:
    """Let an account manage an app (admin)."""
    actor = _principal()
    body = _body(schemas.CLIENT_DEVELOPER)
    account_id = str(body["account_id"])
    service.add_client_developer(
        get_conn(), actor=actor, settings=_settings(), client_id=client_id, account_id=account_id
    )
    return jsonify(client_id=client_id, account_id=account_id), 201


@bp.post(f"{ADMIN}/clients/<client_id>/secret")
def client_secret_rotate(client_id: str) -> Response:
    """A new client secret for an app (its developer, or an admin); shown only in this answer."""
    actor = _principal()
    secret = service.rotate_client_secret(
        get_conn(), actor=actor, settings=_settings(), client_id=client_id
    )
    response = jsonify(client_id=client_id, client_secret=secret)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"{ADMIN}/procedures")
def procedures() -> Response:
    """The administrative procedures a purpose may name (any signed-in person)."""
    _claims(GOVERNANCE_SCOPE)
    return jsonify(procedures=service.list_procedures(get_conn()))


@bp.get(f"{ADMIN}/holidays")
def holidays_list() -> Response:
    """Every weekday off in a year (``year``, default this one), and why."""
    _claims(GOVERNANCE_SCOPE)
    year = _load(schemas.HOLIDAY_YEAR, request.args.to_dict()).get("year") or _now().year
    calendar = service.holiday_calendar(get_conn(), year)
    return jsonify(year=year, days_off=[d.to_dict() for d in calendar])


@bp.put(f"{ADMIN}/holidays/<day>")
def holidays_declare(day: str) -> Response:
    """Declare (or rename) a public holiday (admin)."""
    actor = _principal()
    body = _body(schemas.HOLIDAY)
    service.declare_holiday(
        get_conn(),
        actor=actor,
        settings=_settings(),
        day=_day(day),
        name_vi=body["name_vi"],
        name_en=body.get("name_en") or "",
    )
    return jsonify(day=day, name_vi=body["name_vi"].strip())


@bp.delete(f"{ADMIN}/holidays/<day>")
def holidays_remove(day: str) -> Response:
    """Withdraw a declared public holiday (admin)."""
    actor = _principal()
    service.remove_holiday(get_conn(), actor=actor, settings=_settings(), day=_day(day))
    return jsonify(removed=day)


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError("The day is a date: YYYY-MM-DD.") from None


def _audit_query() -> tuple[Any, int, int]:
    actor = _principal()
    service.require_any_role(actor, "admin", "auditor")
    args = _load(schemas.AUDIT_QUERY, request.args.to_dict())
    limit, offset = args.pop("limit"), args.pop("offset")
    return audit_service.search_query(_settings(), **args), limit, offset


def _record(r: AuditRecord) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "at": r.at.isoformat(),
        "kind": r.kind,
        "outcome": r.outcome,
        "error_code": r.error_code,
        "request_id": r.request_id,
        "client_id": r.client_id,
        "actor": r.actor,
        "official_id": r.official_id,
        "organization": r.organization,
        "subject_hash": r.subject_hash,
        "dataset_id": r.dataset_id,
        "dataset_version": r.dataset_version,
        "purpose": r.purpose,
        "fields": list(r.fields),
        "upstream_ms": r.upstream_ms,
        "cache_hit": r.cache_hit,
        "detail": r.detail,
        "hash": r.hash,
    }


@bp.get(f"{ADMIN}/audit")
def audit_search() -> Response:
    """Search the audit log (auditor, admin)."""
    query, limit, offset = _audit_query()
    records, total = audit_service.search(get_conn(), query, limit=limit, offset=offset)
    response = jsonify(records=[_record(r) for r in records], total=total)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"{ADMIN}/audit.csv")
def audit_csv() -> Response:
    """Every matching audit record as CSV (auditor, admin), streamed."""
    query, _, _ = _audit_query()
    db = database()

    def lines() -> Iterator[str]:
        # The request's connection is released before a streamed body is sent: use our own.
        with db.transaction() as conn:
            yield from audit_service.export_csv(conn, query)

    response = Response(lines(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/me/data-access")
def my_data_access() -> Response:
    """Every access to the signed-in citizen's data: when, app, dataset, purpose, fields."""
    claims = _claims(MY_DATA_SCOPE)
    assert claims.account_id is not None
    found = service.list_data_access(get_conn(), settings=_settings(), account_id=claims.account_id)
    response = jsonify(data_access=[a.to_dict() for a in found])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/me/organizations/data-access")
def my_organizations_data_access() -> Response:
    """Every access to the data of the organizations the signed-in person represents."""
    claims = _claims(MY_DATA_SCOPE)
    assert claims.account_id is not None
    found = service.list_organization_data_access(
        get_conn(), settings=_settings(), account_id=claims.account_id
    )
    response = jsonify(organizations=[o.to_dict() for o in found])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/me/data-consents")
def my_data_consents() -> Response:
    """The signed-in citizen's data consents."""
    claims = _claims(MY_DATA_SCOPE)
    assert claims.account_id is not None
    consents = service.list_data_consents(get_conn(), claims.account_id)
    response = jsonify(data_consents=[c.to_dict() for c in consents])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/v1/me/data-consents/<consent_id>/withdraw")
def my_data_consent_withdraw(consent_id: str) -> Response:
    """Withdraw a data consent: the app's next call is refused."""
    claims = _claims(MY_DATA_SCOPE)
    assert claims.account_id is not None
    service.withdraw_data_consent(
        get_conn(), settings=_settings(), account_id=claims.account_id, consent_id=consent_id
    )
    return jsonify(withdrawn=consent_id)


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register the governance APIs."""
    app.register_blueprint(bp)

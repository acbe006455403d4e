"""marshmallow schemas of the governance API's bodies and query strings."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

_CODE = fields.String(validate=validate.Length(min=1, max=64))
_FIELD = fields.String(validate=validate.Length(min=1, max=100))


class GrantCreateSchema(Schema):
    """POST /api/admin/v1/grants."""

    class Meta:
        unknown = RAISE

    client_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    dataset_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    fields_ = fields.List(
        _FIELD, data_key="fields", load_default=None, validate=validate.Length(max=200)
    )
    purposes = fields.List(_CODE, load_default=None, validate=validate.Length(max=200))
    legal_basis = fields.String(load_default=None, validate=validate.Length(max=2000))
    valid_from = fields.AwareDateTime(load_default=None)
    valid_until = fields.AwareDateTime(load_default=None)
    daily_quota = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))


class RevokeSchema(Schema):
    """POST /api/admin/v1/grants/{id}/revoke."""

    class Meta:
        unknown = RAISE

    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class AccessRequestSchema(Schema):
    """POST /api/admin/v1/access-requests."""

    class Meta:
        unknown = RAISE

    client_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    dataset_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    fields_ = fields.List(
        _FIELD, data_key="fields", load_default=None, validate=validate.Length(max=200)
    )
    purposes = fields.List(_CODE, required=True, validate=validate.Length(min=1, max=200))
    legal_basis = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    justification = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    contact = fields.String(required=True, validate=validate.Length(min=3, max=254))


class ApproveSchema(Schema):
    """POST /api/admin/v1/access-requests/{id}/approve (narrower than asked, or as asked)."""

    class Meta:
        unknown = RAISE

    fields_ = fields.List(
        _FIELD, data_key="fields", load_default=None, validate=validate.Length(max=200)
    )
    purposes = fields.List(_CODE, load_default=None, validate=validate.Length(max=200))
    valid_until = fields.AwareDateTime(load_default=None)
    daily_quota = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))
    note = fields.String(load_default=None, validate=validate.Length(max=5000))


class RefuseSchema(Schema):
    """POST /api/admin/v1/access-requests/{id}/refuse: written reasons are required."""

    class Meta:
        unknown = RAISE

    reasons = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    legal_basis = fields.String(load_default=None, validate=validate.Length(max=2000))


class RoleSchema(Schema):
    """POST/DELETE /api/admin/v1/accounts/{id}/roles."""

    class Meta:
        unknown = RAISE

    role = fields.String(
        required=True, validate=validate.OneOf(["admin", "data_owner", "auditor", "developer"])
    )
    agency_code = fields.String(load_default=None, validate=validate.Length(min=1, max=64))


class ClientDeveloperSchema(Schema):
    """POST /api/admin/v1/clients/{id}/developers."""

    class Meta:
        unknown = RAISE

    account_id = fields.UUID(required=True)


class AuditQuerySchema(Schema):
    """GET /api/admin/v1/audit: every filter optional, all compared as values (never SQL)."""

    class Meta:
        unknown = RAISE

    client_id = fields.String(load_default=None, validate=validate.Length(max=200))
    dataset_id = fields.String(load_default=None, validate=validate.Length(max=64))
    purpose = fields.String(load_default=None, validate=validate.Length(max=64))
    outcome = fields.String(load_default=None, validate=validate.Length(max=64))
    kind = fields.String(load_default=None, validate=validate.Length(max=64))
    error_code = fields.String(load_default=None, validate=validate.Length(max=64))
    request_id = fields.String(load_default=None, validate=validate.Length(max=128))
    subject = fields.String(load_default=None, validate=validate.Length(max=20))
    since = fields.AwareDateTime(load_default=None)
    until = fields.AwareDateTime(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


GRANT_CREATE = GrantCreateSchema()
REVOKE = RevokeSchema()
ACCESS_REQUEST = AccessRequestSchema()
APPROVE = ApproveSchema()
REFUSE = RefuseSchema()
ROLE = RoleSchema()
CLIENT_DEVELOPER = ClientDeveloperSchema()
AUDIT_QUERY = AuditQuerySchema()


class HolidayYearSchema(Schema):
    """Query of GET /holidays."""

    year = fields.Integer(load_default=None, validate=validate.Range(1900, 2200))


class HolidaySchema(Schema):
    """Body of PUT /holidays/{day}."""

    name_vi = fields.String(required=True, validate=validate.Length(1, 200))
    name_en = fields.String(load_default="", validate=validate.Length(0, 200))


HOLIDAY_YEAR = HolidayYearSchema()
HOLIDAY = HolidaySchema()

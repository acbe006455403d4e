"""Rules of data-access governance: who may see what, for which purpose, and the paper trail.

Every function takes the connection and the acting ``Principal`` explicitly and never
commits: the request (or the CLI command) owns the transaction. Governance actions append
their audit record in that same transaction, so an action and its record stand or fall
together.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Protocol

from connectors import errors as cerr
from connectors.definition import DatasetDefinition, parse_definition
from hub.audit import service as audit_service
from hub.audit.models import AuditEntry
from hub.config import Settings
from hub.datasets import store as datasets_store
from hub.datasets.schemas import HEADER_TOKEN
from hub.db import Connection
from hub.errors import HubError, NotFoundError, ValidationError
from hub.governance import store
from hub.governance.errors import (
    ConsentRequiredError,
    LevelRequiredError,
    NotPermittedError,
    RequestDecidedError,
    RoleRequiredError,
    SubjectMismatchError,
    UnknownAccessRequestError,
    UnknownConsentError,
    UnknownGrantError,
)
from hub.governance.models import (
    ANY_PURPOSE,
    AccessRequest,
    DataAccess,
    DataConsent,
    Grant,
    Principal,
    Subject,
)
from identity.accounts import store as accounts_store
from identity.oauth import clients as oauth_clients
from identity.orgs import store as orgs_store

log = logging.getLogger(__name__)

#: Vietnam keeps UTC+7 all year (no daylight saving time since 1975).
VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
#: The legal basis of a grant for any purpose when none is stated: sharing is the default.
DEFAULT_LEGAL_BASIS = (
    "Nghị định 47/2020/NĐ-CP (sửa đổi bởi Nghị định 194/2025/NĐ-CP) về quản lý, kết nối và "
    "chia sẻ dữ liệu số của cơ quan nhà nước"
)
#: Days off that fall on the same calendar date every year (Labour Code 2019, art. 112).
FIXED_HOLIDAYS = frozenset({(1, 1), (4, 30), (5, 1), (9, 2)})
ANSWER_WORKING_DAYS = 2
ROLES = ("admin", "data_owner", "auditor", "developer")


def utcnow() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


# Principals and roles


def principal_for_account(
    conn: Connection,
    *,
    account_id: str,
    level: int | None,
    actor: str | None = None,
    client_id: str | None = None,
) -> Principal:
    """The principal of a signed-in account: its roles and the agencies it owns data for."""
    row = store.find_account_roles(conn, account_id)
    if row is None:
        raise NotFoundError("No such account.")
    roles = frozenset(row["roles"] or ())
    owned = frozenset(
        code for role, code in store.list_account_agencies(conn, account_id) if role == "data_owner"
    )
    return Principal(
        actor=actor or f"account:{account_id}",
        account_id=account_id,
        roles=roles,
        owner_agencies=owned if "data_owner" in roles else frozenset(),
        level=level,
        client_id=client_id,
    )


def require_any_role(principal: Principal, *roles: str) -> None:
    """Refuse unless the principal has one of `roles` (admins need a level-2 sign-in)."""
    if principal.is_operator:
        return
    held = set(roles) & principal.roles
    if not held:
        raise RoleRequiredError(
            f"This needs one of the roles: {', '.join(roles)}.", roles=list(roles)
        )
    if held == {"admin"} and principal.level != 2:
        raise LevelRequiredError()


def _owns(principal: Principal, owner_code: str | None) -> bool:
    return principal.is_admin or (owner_code is not None and owner_code in principal.owner_agencies)


def _require_owner(principal: Principal, dataset: _DatasetInfo) -> None:
    require_any_role(principal, "admin", "data_owner")
    if not _owns(principal, dataset.owner_code):
        raise RoleRequiredError(
            f"Only the data owner of {dataset.owner_code} (or an administrator) decides on "
            f"dataset {dataset.id!r}.",
            dataset=dataset.id,
        )


def _developer_clients(conn: Connection, principal: Principal) -> list[str]:
    if principal.account_id is None or "developer" not in principal.roles:
        return []
    return store.list_developer_clients(conn, principal.account_id)


def assign_role(
    conn: Connection,
    *,
    actor: Principal,
    settings: Settings,
    account_id: str,
    role: str,
    agency_code: str | None = None,
) -> dict[str, Any]:
    """Give an account a role (data owners and developers of an agency: with its code)."""
    require_any_role(actor, "admin")
    if role not in ROLES:
        raise ValidationError(f"A role is one of: {', '.join(ROLES)}.")
    if role == "data_owner" and not agency_code:
        raise ValidationError("A data owner acts for an owner agency: give its code.")
    row = store.find_account_roles(conn, account_id)
    if row is None:
        raise NotFoundError("No such account.")
    roles = tuple(dict.fromkeys([*(row["roles"] or ()), role]))
    accounts_store.update_roles(conn, account_id, roles)
    if agency_code and role in ("data_owner", "developer"):
        store.insert_account_agency(conn, account_id, role, agency_code)
    _audit(
        conn,
        settings,
        actor,
        "role.assign",
        detail={"account_id": account_id, "role": role, "agency_code": agency_code},
    )
    return describe_roles(conn, account_id=account_id)


def remove_role(
    conn: Connection,
    *,
    actor: Principal,
    settings: Settings,
    account_id: str,
    role: str,
    agency_code: str | None = None,
) -> dict[str, Any]:
    """Take a role (or, with an agency code, only that agency) away from an account."""
    require_any_role(actor, "admin")
    row = store.find_account_roles(conn, account_id)
    if row is None:
        raise NotFoundError("No such account.")
    if agency_code:
        store.delete_account_agency(conn, account_id, role, agency_code)
    else:
        accounts_store.update_roles(
            conn, account_id, tuple(r for r in (row["roles"] or ()) if r != role)
        )
    _audit(
        conn,
        settings,
        actor,
        "role.remove",
        detail={"account_id": account_id, "role": role, "agency_code": agency_code},
    )
    return describe_roles(conn, account_id=account_id)


def describe_roles(conn: Connection, *, account_id: str) -> dict[str, Any]:
    """An account's roles, agencies and the apps it develops."""
    row = store.find_account_roles(conn, account_id)
    if row is None:
        raise NotFoundError("No such account.")
    agencies = store.list_account_agencies(conn, account_id)
    return {
        "account_id": account_id,
        "roles": list(row["roles"] or ()),
        "agencies": [{"role": r, "agency_code": c} for r, c in agencies],
        "clients": store.list_developer_clients(conn, account_id),
    }


def add_client_developer(
    conn: Connection, *, actor: Principal, settings: Settings, client_id: str, account_id: str
) -> None:
    """Let an account manage an agency app (and request data access for it)."""
    require_any_role(actor, "admin")
    store.insert_client_developer(conn, client_id, account_id)
    _audit(
        conn,
        settings,
        actor,
        "role.client_developer",
        client_id=client_id,
        detail={"account_id": account_id},
    )


def record_admin_action(
    conn: Connection,
    settings: Settings,
    actor: Principal,
    kind: str,
    *,
    subject: str | None = None,
    client_id: str | None = None,
    dataset_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Audit an administrator's action carried out by another part of the hub (the
    console's dataset switches, the identity and dataset commands of ``lgsp``)."""
    _audit(
        conn,
        settings,
        actor,
        kind,
        subject=subject,
        client_id=client_id,
        dataset_id=dataset_id,
        detail=detail,
    )


def rotate_client_secret(
    conn: Connection, *, actor: Principal, settings: Settings, client_id: str
) -> str:
    """A new secret for an app its developer (or an admin) manages; returned once."""
    require_any_role(actor, "admin", "developer")
    if not actor.is_admin and client_id not in _developer_clients(conn, actor):
        raise RoleRequiredError("You can rotate the secret only of the apps you develop.")
    secret = oauth_clients.rotate_secret(conn, client_id, settings=settings)
    _audit(conn, settings, actor, "client.secret_rotated", client_id=client_id)
    return secret


# Datasets as governance sees them


@dataclass(frozen=True)
class _DatasetInfo:
    id: str
    owner_code: str
    title_vi: str
    definition: DatasetDefinition

    @property
    def fields(self) -> tuple[str, ...]:
        return self.definition.field_names

    @property
    def default_fields(self) -> tuple[str, ...]:
        sensitive = set(self.definition.sensitive_fields)
        return tuple(f for f in self.definition.field_names if f not in sensitive)


def _dataset(conn: Connection, dataset_id: str) -> _DatasetInfo:
    ds = datasets_store.get(conn, dataset_id)
    try:
        definition = parse_definition(dict(ds.definition), source=f"dataset {ds.id}")
    except cerr.DefinitionError as exc:
        raise HubError(f"The stored definition of {ds.id!r} cannot be read.") from exc
    return _DatasetInfo(ds.id, definition.owner.code, definition.title.vi, definition)


def _fields_for(dataset: _DatasetInfo, fields: Iterable[str] | None) -> tuple[str, ...]:
    """The named fields (checked), or by default every field that is not sensitive."""
    wanted = list(dict.fromkeys(f.strip() for f in (fields or ()) if f and f.strip()))
    if not wanted:
        return dataset.default_fields
    unknown = [f for f in wanted if f not in dataset.fields]
    if unknown:
        raise ValidationError(
            f"Dataset {dataset.id!r} has no field {', '.join(map(repr, unknown))}; "
            f"its fields are {', '.join(dataset.fields)}.",
            fields=unknown,
        )
    order = {f: i for i, f in enumerate(dataset.fields)}
    return tuple(sorted(wanted, key=order.__getitem__))


def _purposes(purposes: Iterable[str] | None) -> tuple[tuple[str, ...], bool]:
    """(codes, any_purpose) from a list of procedure codes, where "any" (or none) means any."""
    codes = list(dict.fromkeys(p.strip() for p in (purposes or ()) if p and p.strip()))
    if not codes or ANY_PURPOSE in codes:
        if len(codes) > 1:
            raise ValidationError('"any" purpose cannot be combined with procedure codes.')
        return (), True
    bad = [c for c in codes if not HEADER_TOKEN.match(c)]
    if bad:
        raise ValidationError(
            "A purpose is an administrative-procedure code (1 to 64 letters, digits, . _ : / -).",
            purposes=bad,
        )
    return tuple(codes), False


def _text(value: str | None, what: str, *, required: bool, limit: int) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError(f"{what} is required.")
        return None
    if len(text) > limit or "\x00" in text:
        raise ValidationError(f"{what} has at most {limit} characters.")
    return text


# Grants


def grant_access(
    conn: Connection,
    *,
    actor: Principal,
    settings: Settings,
    client_id: str,
    dataset_id: str,
    fields: Iterable[str] | None = None,
    purposes: Iterable[str] | None = None,
    legal_basis: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    daily_quota: int | None = None,
    access_request_id: str | None = None,
) -> Grant:
    """Let a client query a dataset; supersedes the client's live grant for that dataset.

    Fields default to the dataset's non-sensitive ones (sensitive ones only when named);
    purposes default to any purpose, which then rests on the stated (or default) legal basis.
    """
    dataset = _dataset(conn, dataset_id)
    _require_owner(actor, dataset)
    if store.find_client_name(conn, client_id) is None:
        raise NotFoundError(f"There is no client {client_id!r}.", client_id=client_id)
    chosen = _fields_for(dataset, fields)
    codes, any_purpose = _purposes(purposes)
    basis = _text(legal_basis, "The legal basis", required=False, limit=2000)
    if basis is None:
        basis = DEFAULT_LEGAL_BASIS
    if daily_quota is not None and daily_quota < 1:
        raise ValidationError("The daily quota must be at least 1.")
    if valid_until is not None and valid_until <= (valid_from or utcnow()):
        raise ValidationError("valid_until must be in the future (and after valid_from).")
    previous = store.find_live_grant(conn, client_id, dataset.id)
    if previous is not None:
        store.revoke_grant(conn, previous.id, by=actor.actor, reason="superseded")
    grant = store.insert_grant(
        conn,
        client_id=client_id,
        dataset_id=dataset.id,
        fields=list(chosen),
        purposes=list(codes),
        any_purpose=any_purpose,
        legal_basis=basis,
        valid_from=valid_from,
        valid_until=valid_until,
        daily_quota=daily_quota,
        access_request_id=access_request_id,
        created_by=actor.actor,
    )
    _audit(
        conn,
        settings,
        actor,
        "grant.create",
        client_id=client_id,
        dataset_id=dataset.id,
        fields=chosen,
        detail={
            "grant_id": grant.id,
            "purposes": [ANY_PURPOSE] if any_purpose else list(codes),
            "legal_basis": basis,
            "valid_until": valid_until.isoformat() if valid_until else None,
            "daily_quota": daily_quota,
            "superseded": previous.id if previous else None,
            "access_request_id": access_request_id,
        },
    )
    return grant


def revoke_grant(
    conn: Connection,
    *,
    actor: Principal,
    settings: Settings,
    grant_id: str,
    reason: str | None = None,
) -> Grant:
    """Revoke a grant now: the client's very next call is refused."""
    grant = store.find_grant(conn, grant_id)
    if grant is None:
        raise UnknownGrantError(grant_id=grant_id)
    _require_owner(actor, _dataset(conn, grant.dataset_id))
    if grant.revoked_at is not None:
        return grant
    why = _text(reason, "The reason", required=False, limit=2000)
    store.revoke_grant(conn, grant.id, by=actor.actor, reason=why)
    _audit(
        conn,
        settings,
        actor,
        "grant.revoke",
        client_id=grant.client_id,
        dataset_id=grant.dataset_id,
        detail={"grant_id": grant.id, "reason": why},
    )
    revoked = store.find_grant(conn, grant.id)
    assert revoked is not None
    return revoked


def get_grant(conn: Connection, *, actor: Principal, grant_id: str) -> Grant:
    """A grant the principal may see."""
    grant = store.find_grant(conn, grant_id)
    if grant is None or not _may_see_grant(conn, actor, grant):
        raise UnknownGrantError(grant_id=grant_id)
    return grant


def _may_see_grant(conn: Connection, actor: Principal, grant: Grant) -> bool:
    if actor.is_admin or "auditor" in actor.roles:
        return True
    if actor.owner_agencies:
        info = store.find_dataset_owner(conn, grant.dataset_id)
        if info and info["owner_code"] in actor.owner_agencies:
            return True
    return grant.client_id in _developer_clients(conn, actor)


def list_grants(
    conn: Connection,
    *,
    actor: Principal,
    client_id: str | None = None,
    dataset_id: str | None = None,
    include_revoked: bool = False,
) -> list[Grant]:
    """Grants the principal may see: all (admin, auditor), its agency's, or its apps'."""
    require_any_role(actor, "admin", "auditor", "data_owner", "developer")
    scope: dict[str, Any] = {}
    if not (actor.is_admin or "auditor" in actor.roles):
        if actor.owner_agencies:
            scope["owner_agencies"] = sorted(actor.owner_agencies)
        else:
            scope["client_ids"] = _developer_clients(conn, actor)
    return store.list_grants(
        conn,
        client_id=client_id,
        dataset_id=dataset_id,
        include_revoked=include_revoked,
        **scope,
    )


# Enforcement of grants on data queries


def seconds_until_local_midnight(now: datetime | None = None) -> int:
    """Seconds from now until the next midnight in Asia/Ho_Chi_Minh (at least 1)."""
    local = (now or utcnow()).astimezone(VN_TZ)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), VN_TZ)
    return max(1, int((midnight - local).total_seconds() + 0.999))


def local_day(now: datetime | None = None) -> date:
    """Today's date in Asia/Ho_Chi_Minh."""
    return (now or utcnow()).astimezone(VN_TZ).date()


def _fold(value: str) -> str:
    """A name compared without case, diacritics or extra spaces (Nguyễn = nguyen)."""
    text = unicodedata.normalize("NFD", value.replace("Đ", "D").replace("đ", "d"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def _same(attribute: str, given: Any, expected: str) -> bool:
    if attribute == "full_name":
        return isinstance(given, str) and _fold(given) == _fold(expected)
    return str(given).strip() == expected


@dataclass(frozen=True)
class OnBehalf:
    """The outcome of the on-behalf checks: the filled params, subject value and consent."""

    params: dict[str, Any]
    subject_value: str
    consent: DataConsent


def subject_values(
    conn: Connection,
    *,
    subject: Subject,
    account_id: str,
    organization: str | None,
    now: datetime | None = None,
) -> dict[str, str]:
    """The account's (or its organization's) values of the subject's attributes.

    Raises SubjectMismatchError when the account does not act for the organization.
    """
    if subject.kind == "person":
        account = accounts_store.get(conn, account_id)
        values = {"pin": account.pin, "full_name": account.full_name}
        if account.birth_date is not None:
            values["birth_date"] = account.birth_date.isoformat()
        return values
    if not organization:
        raise SubjectMismatchError(
            "On behalf of a person, business data is only given for the organization the "
            "person acts for: sign in acting for it (scope organization)."
        )
    members = orgs_store.list_active_memberships(conn, account_id, now or utcnow())
    if not any(m.tax_code == organization for m in members):
        raise SubjectMismatchError("The signed-in person does not act for this organization.")
    return {"tax_code": organization}


def check_on_behalf(
    conn: Connection,
    *,
    subject: Subject | None,
    account_id: str,
    organization: str | None,
    client_id: str,
    dataset_id: str,
    purpose: str,
    params: Mapping[str, Any],
) -> OnBehalf:
    """Fill the subject's params from the account; refuse another subject or no consent."""
    if subject is None:
        raise NotPermittedError(
            f"Dataset {dataset_id!r} cannot be queried on behalf of a person.", dataset=dataset_id
        )
    values = subject_values(conn, subject=subject, account_id=account_id, organization=organization)
    filled = dict(params)
    for param, attribute in subject.params.items():
        expected = values.get(attribute)
        if expected is None:
            continue
        given = params.get(param)
        if given not in (None, "") and not _same(attribute, given, expected):
            raise SubjectMismatchError(
                "On behalf of a person an app may only ask about that person's own record "
                f"(parameter {param!r} names someone else).",
                param=param,
            )
        filled[param] = expected
    main = "pin" if subject.kind == "person" else "tax_code"
    consent = store.find_live_consent(
        conn, account_id=account_id, client_id=client_id, dataset_id=dataset_id, purpose=purpose
    )
    if consent is None:
        raise ConsentRequiredError(
            "The citizen has not consented (or has withdrawn consent) to this app receiving "
            "this dataset for this purpose.",
            dataset=dataset_id,
            purpose=purpose,
        )
    return OnBehalf(filled, values[main], consent)


def subject_value_of(subject: Subject | None, params: Mapping[str, Any]) -> str | None:
    """The identifying value (PIN or tax code) named in a query's params, if any."""
    if subject is None:
        return None
    main = "pin" if subject.kind == "person" else "tax_code"
    for param, attribute in subject.params.items():
        if attribute == main:
            value = params.get(param)
            return str(value) if isinstance(value, str | int) and str(value) else None
    return None


def count_call(conn: Connection, grant: Grant, *, now: datetime | None = None) -> int | None:
    """Count one call against the grant's daily quota; None when spent (no quota: 0)."""
    if grant.daily_quota is None:
        return 0
    return store.count_call(conn, grant.id, local_day(now), grant.daily_quota)


# Citizens' data consents


def record_data_consent(
    conn: Connection,
    *,
    settings: Settings,
    account_id: str,
    client_id: str,
    dataset_id: str,
    purpose: str,
    fields: Sequence[str],
    text_shown: str,
) -> DataConsent:
    """Record that the citizen consented, on the hub's screen showing `text_shown`.

    Replaces his live consent for the same app, dataset and purpose. Only the hub's own
    consent page calls this (never an app): consent must be explicit and specific.
    """
    dataset = _dataset(conn, dataset_id)
    if store.find_subject(conn, dataset.id) is None:
        raise ValidationError(f"Dataset {dataset.id!r} cannot be shared on a citizen's behalf.")
    if store.find_client_name(conn, client_id) is None:
        raise NotFoundError(f"There is no client {client_id!r}.", client_id=client_id)
    if not fields:
        raise ValidationError("Name the fields the citizen agreed to share.")
    chosen = _fields_for(dataset, fields)
    codes, any_purpose = _purposes([purpose])
    if any_purpose:
        raise ValidationError("Consent is given for one specific purpose, not for any.")
    text = _text(text_shown, "The consent text", required=True, limit=20000)
    store.withdraw_live_consent(
        conn, account_id=account_id, client_id=client_id, dataset_id=dataset.id, purpose=codes[0]
    )
    consent = store.insert_consent(
        conn,
        account_id=account_id,
        client_id=client_id,
        dataset_id=dataset.id,
        purpose=codes[0],
        fields=list(chosen),
        text_shown=text,
    )
    _audit(
        conn,
        settings,
        Principal(actor=f"account:{account_id}", account_id=account_id),
        "consent.record",
        client_id=client_id,
        dataset_id=dataset.id,
        purpose=codes[0],
        fields=chosen,
        subject=_account_pin(conn, account_id),
        detail={"consent_id": consent.id},
    )
    return consent


def withdraw_data_consent(
    conn: Connection, *, settings: Settings, account_id: str, consent_id: str
) -> None:
    """Withdraw one of the citizen's consents: the app's next call is refused."""
    consents = {c.id: c for c in store.list_consents(conn, account_id)}
    consent = consents.get(consent_id)
    if consent is None:
        raise UnknownConsentError()
    if consent.withdrawn_at is not None:
        return
    store.withdraw_consent(conn, consent_id, account_id=account_id)
    _audit(
        conn,
        settings,
        Principal(actor=f"account:{account_id}", account_id=account_id),
        "consent.withdraw",
        client_id=consent.client_id,
        dataset_id=consent.dataset_id,
        purpose=consent.purpose,
        subject=_account_pin(conn, account_id),
        detail={"consent_id": consent.id},
    )


def list_data_consents(conn: Connection, account_id: str) -> list[DataConsent]:
    """Every data consent of the citizen (live first), with the app's name."""
    return store.list_consents(conn, account_id)


def consent_screen(
    conn: Connection, *, client_id: str, dataset_id: str, purpose: str, fields: Sequence[str]
) -> dict[str, Any]:
    """What a consent screen shows: app, dataset, purpose name, fields (with sensitivity)."""
    dataset = _dataset(conn, dataset_id)
    chosen = _fields_for(dataset, fields)
    procedures = {p["code"]: p for p in store.list_procedures(conn)}
    by_name = {f.name: f for f in dataset.definition.response.fields}
    sensitive = set(dataset.definition.sensitive_fields)
    return {
        "client_id": client_id,
        "client_name": store.find_client_name(conn, client_id),
        "dataset_id": dataset.id,
        "dataset_title": dataset.title_vi,
        "owner_code": dataset.owner_code,
        "purpose": purpose,
        "purpose_name": (procedures.get(purpose) or {}).get("name_vi"),
        "fields": [
            {
                "name": name,
                "description": _description(by_name[name].description),
                "sensitive": name in sensitive,
            }
            for name in chosen
        ],
    }


def _description(text: Any) -> dict[str, str] | None:
    return text.to_dict() if text is not None else None


def _account_pin(conn: Connection, account_id: str) -> str | None:
    row = store.find_account_roles(conn, account_id)
    return row["pin"] if row else None


# Access requests


def days_off(start: date, end: date, declared: Iterable[date] = ()) -> frozenset[date]:
    """The weekdays between ``start`` and ``end`` (inclusive) on which nobody works.

    The fixed-date holidays and the ``declared`` ones (lunar and yearly, from the
    ``public_holidays`` table); a holiday that falls on a weekend is taken on the next
    working day (Labour Code 2019, art. 111).
    """
    first = start - timedelta(days=14)  # a weekend holiday just before moves into range
    holidays = set(declared)
    for year in range(first.year, end.year + 1):
        holidays.update(date(year, month, day) for month, day in FIXED_HOLIDAYS)
    off = {h for h in holidays if first <= h <= end}
    for holiday in sorted(off):
        if holiday.weekday() >= 5:
            moved = holiday + timedelta(days=1)
            while moved.weekday() >= 5 or moved in off:
                moved += timedelta(days=1)
            off.add(moved)
    return frozenset(d for d in off if start <= d <= end and d.weekday() < 5)


def _declared_near(conn: Connection, when: datetime) -> list[date]:
    """The declared holidays around ``when``: enough for any due date computed from it."""
    day = when.astimezone(VN_TZ).date()
    rows = store.declared_holidays(conn, day - timedelta(days=14), day + timedelta(days=90))
    return [row["day"] for row in rows]


def due_at(
    submitted_at: datetime,
    *,
    working_days: int = ANSWER_WORKING_DAYS,
    declared: Iterable[date] = (),
) -> datetime:
    """The end (23:59:59, Asia/Ho_Chi_Minh) of the n-th working day after submission.

    Saturdays, Sundays and public holidays (see ``days_off``) are not working days.
    """
    day = submitted_at.astimezone(VN_TZ).date()
    off = days_off(day, day + timedelta(days=working_days * 3 + 30), declared)
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            counted += 1
    return datetime.combine(day, time(23, 59, 59), VN_TZ)


@dataclass(frozen=True)
class DayOff:
    """A weekday off in a year's calendar, and why."""

    day: date
    name_vi: str
    name_en: str
    source: str  # "fixed", "declared" or "moved" (a weekend holiday taken on this day)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "day": self.day.isoformat(),
            "name_vi": self.name_vi,
            "name_en": self.name_en,
            "source": self.source,
        }


_FIXED_NAMES = {
    (1, 1): ("Tết Dương lịch", "New Year's Day"),
    (4, 30): ("Ngày Chiến thắng", "Reunification Day"),
    (5, 1): ("Ngày Quốc tế lao động", "International Labour Day"),
    (9, 2): ("Quốc khánh", "National Day"),
}


def holiday_calendar(conn: Connection, year: int) -> list[DayOff]:
    """Every weekday off in ``year``: fixed, declared, and moved from a weekend."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    declared = {h["day"]: h for h in store.declared_holidays(conn, start - timedelta(14), end)}
    out = []
    for day in sorted(days_off(start, end, declared)):
        if day in declared:
            row = declared[day]
            out.append(DayOff(day, row["name_vi"], row["name_en"], "declared"))
        elif (day.month, day.day) in _FIXED_NAMES:
            out.append(DayOff(day, *_FIXED_NAMES[(day.month, day.day)], "fixed"))
        else:
            out.append(DayOff(day, "Nghỉ bù", "Day off in lieu", "moved"))
    return out


def declare_holiday(
    conn: Connection,
    *,
    actor: Principal,
    settings: Settings,
    day: date,
    name_vi: str,
    name_en: str = "",
) -> None:
    """Declare (or rename) a public holiday: new access requests' due dates skip it."""
    require_any_role(actor, "admin")
    vi = _text(name_vi, "The Vietnamese name", required=True, limit=200)
    en = _text(name_en, "The English name", required=False, limit=200) or ""
    store.upsert_holiday(conn, day=day, name_vi=vi or "", name_en=en)
    _audit(conn, settings, actor, "holiday.declared", detail={"day": day.isoformat(), "name": vi})


def remove_holiday(conn: Connection, *, actor: Principal, settings: Settings, day: date) -> None:
    """Withdraw a declared holiday (the fixed-date ones are the law's, not ours)."""
    require_any_role(actor, "admin")
    if not store.delete_holiday(conn, day):
        raise NotFoundError(f"No public holiday is declared on {day.isoformat()}.")
    _audit(conn, settings, actor, "holiday.removed", detail={"day": day.isoformat()})


_CONTACT = re.compile(r"^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$")


def submit_access_request(
    conn: Connection,
    *,
    actor: Principal,
    settings: Settings,
    client_id: str,
    dataset_id: str,
    fields: Iterable[str] | None,
    purposes: Iterable[str] | None,
    legal_basis: str,
    justification: str,
    contact: str,
    now: datetime | None = None,
) -> AccessRequest:
    """A developer asks, for one of his apps, to query a dataset; due in 2 working days."""
    require_any_role(actor, "admin", "developer")
    if not actor.is_admin and client_id not in _developer_clients(conn, actor):
        raise RoleRequiredError("You can request access only for the apps you develop.")
    dataset = _dataset(conn, dataset_id)
    chosen = _fields_for(dataset, fields)
    codes, any_purpose = _purposes(purposes)
    basis = _text(legal_basis, "The legal basis", required=True, limit=2000)
    why = _text(justification, "The justification", required=True, limit=5000)
    reach = _text(contact, "The contact e-mail", required=True, limit=254)
    if not _CONTACT.match(reach or ""):
        raise ValidationError("The contact is an e-mail address.")
    submitted = now or utcnow()
    request = store.insert_request(
        conn,
        client_id=client_id,
        dataset_id=dataset.id,
        fields=list(chosen),
        purposes=list(codes),
        any_purpose=any_purpose,
        legal_basis=basis,
        justification=why,
        contact=reach,
        requested_by=actor.actor,
        requester_account_id=actor.account_id,
        submitted_at=submitted,
        due_at=due_at(submitted, declared=_declared_near(conn, submitted)),
    )
    store.insert_event(
        conn,
        request.id,
        kind="submitted",
        actor=actor.actor,
        detail={"fields": list(chosen), "purposes": [ANY_PURPOSE] if any_purpose else list(codes)},
    )
    _notify(
        conn,
        request,
        kind="access_request.received",
        subject=f"Đã nhận yêu cầu truy cập dữ liệu {dataset.id}",
        body=(
            f"Yêu cầu {request.id} của ứng dụng {client_id} đối với bộ dữ liệu "
            f"«{dataset.title_vi}» đã được tiếp nhận. Hạn trả lời: "
            f"{request.due_at.astimezone(VN_TZ):%d/%m/%Y}."
        ),
    )
    _audit(
        conn,
        settings,
        actor,
        "access_request.submit",
        client_id=client_id,
        dataset_id=dataset.id,
        fields=chosen,
        detail={"access_request_id": request.id},
    )
    return request


def _notify(
    conn: Connection, request: AccessRequest, *, kind: str, subject: str, body: str
) -> None:
    store.insert_notice(conn, kind=kind, recipient=request.contact, subject=subject, body=body)
    store.insert_event(
        conn, request.id, kind="notified", actor="hub", detail={"to": request.contact, "kind": kind}
    )


def _pending(conn: Connection, request_id: str) -> AccessRequest:
    request = store.find_request(conn, request_id, lock=True)
    if request is None:
        raise UnknownAccessRequestError()
    if request.status != "pending":
        raise RequestDecidedError(f"This request was already {request.status}.")
    return request


def approve_access_request(
    conn: Connection,
    *,
    actor: Principal,
    settings: Settings,
    request_id: str,
    fields: Iterable[str] | None = None,
    purposes: Iterable[str] | None = None,
    valid_until: datetime | None = None,
    daily_quota: int | None = None,
    note: str | None = None,
) -> tuple[AccessRequest, Grant]:
    """The data owner approves: a grant as asked or narrower (fewer fields or purposes)."""
    request = _pending(conn, request_id)
    dataset = _dataset(conn, request.dataset_id)
    _require_owner(actor, dataset)
    chosen = tuple(fields or ()) or request.fields
    wider = [f for f in chosen if f not in request.fields]
    if wider:
        raise ValidationError(
            "An approval may narrow the request, never widen it: fields not asked for: "
            + ", ".join(wider)
        )
    asked = [ANY_PURPOSE] if request.any_purpose else list(request.purposes)
    codes = list(purposes or ()) or asked
    if not request.any_purpose and any(p not in request.purposes for p in codes):
        raise ValidationError("An approval may not add purposes that were not asked for.")
    grant = grant_access(
        conn,
        actor=actor,
        settings=settings,
        client_id=request.client_id,
        dataset_id=request.dataset_id,
        fields=chosen,
        purposes=codes,
        legal_basis=request.legal_basis,
        valid_until=valid_until,
        daily_quota=daily_quota,
        access_request_id=request.id,
    )
    why = _text(note, "The note", required=False, limit=5000)
    store.decide_request(
        conn, request.id, status="approved", by=actor.actor, reason=why, grant_id=grant.id
    )
    store.insert_event(
        conn,
        request.id,
        kind="approved",
        actor=actor.actor,
        detail={
            "grant_id": grant.id,
            "fields": list(grant.fields),
            "purposes": codes,
            "narrowed": list(grant.fields) != list(request.fields) or codes != asked,
            "note": why,
        },
    )
    _notify(
        conn,
        request,
        kind="access_request.approved",
        subject=f"Yêu cầu truy cập dữ liệu {dataset.id} đã được chấp thuận",
        body=(
            f"Yêu cầu {request.id} đã được chấp thuận. Các trường được cấp: "
            f"{', '.join(grant.fields)}."
        ),
    )
    _audit(
        conn,
        settings,
        actor,
        "access_request.approve",
        client_id=request.client_id,
        dataset_id=request.dataset_id,
        fields=grant.fields,
        detail={"access_request_id": request.id, "grant_id": grant.id},
    )
    return get_access_request(conn, actor=actor, request_id=request.id), grant


def refuse_access_request(
    conn: Connection,
    *,
    actor: Principal,
    settings: Settings,
    request_id: str,
    reasons: str,
    legal_basis: str | None = None,
) -> AccessRequest:
    """The data owner refuses, in writing, with reasons (Decree 47/2020 as amended)."""
    request = _pending(conn, request_id)
    dataset = _dataset(conn, request.dataset_id)
    _require_owner(actor, dataset)
    why = _text(reasons, "The reasons for a refusal", required=True, limit=5000)
    basis = _text(legal_basis, "The legal basis", required=False, limit=2000)
    store.decide_request(
        conn, request.id, status="refused", by=actor.actor, reason=why, grant_id=None
    )
    store.insert_event(
        conn,
        request.id,
        kind="refused",
        actor=actor.actor,
        detail={"reasons": why, "legal_basis": basis},
    )
    _notify(
        conn,
        request,
        kind="access_request.refused",
        subject=f"Yêu cầu truy cập dữ liệu {dataset.id} bị từ chối",
        body=f"Yêu cầu {request.id} bị từ chối. Lý do: {why}"
        + (f" Căn cứ: {basis}" if basis else ""),
    )
    _audit(
        conn,
        settings,
        actor,
        "access_request.refuse",
        client_id=request.client_id,
        dataset_id=request.dataset_id,
        detail={"access_request_id": request.id, "reasons": why},
    )
    return get_access_request(conn, actor=actor, request_id=request.id)


def get_access_request(conn: Connection, *, actor: Principal, request_id: str) -> AccessRequest:
    """A request the principal may see, with its history."""
    request = store.find_request(conn, request_id)
    if request is None or not _may_see_request(conn, actor, request):
        raise UnknownAccessRequestError()
    return AccessRequest(
        **{**request.__dict__, "events": tuple(store.list_events(conn, request.id))}
    )


def _may_see_request(conn: Connection, actor: Principal, request: AccessRequest) -> bool:
    if actor.is_admin or "auditor" in actor.roles:
        return True
    if actor.account_id is not None and request.requester_account_id == actor.account_id:
        return True
    if actor.owner_agencies:
        info = store.find_dataset_owner(conn, request.dataset_id)
        if info and info["owner_code"] in actor.owner_agencies:
            return True
    return request.client_id in _developer_clients(conn, actor)


def list_access_requests(
    conn: Connection, *, actor: Principal, status: str | None = None
) -> list[AccessRequest]:
    """Requests the principal may see: all (admin, auditor), his agency's inbox, or his own."""
    require_any_role(actor, "admin", "auditor", "data_owner", "developer")
    if status is not None and status not in ("pending", "approved", "refused", "withdrawn"):
        raise ValidationError("status is one of pending, approved, refused, withdrawn.")
    if actor.is_admin or "auditor" in actor.roles:
        return store.list_requests(conn, status=status)
    if actor.owner_agencies:
        return store.list_requests(conn, status=status, owner_agencies=sorted(actor.owner_agencies))
    return store.list_requests(
        conn,
        status=status,
        client_ids=_developer_clients(conn, actor),
        requester_account_id=actor.account_id,
    )


class NoticeSender(Protocol):
    """Delivers a notice (e-mail, SMS, the national portal's inbox …)."""

    def send(self, recipient: str, subject: str, body: str) -> None:
        """Send one notice or raise."""


class LogSender:
    """The default sender: writes each notice to the log."""

    def send(self, recipient: str, subject: str, body: str) -> None:
        """Log the notice."""
        log.info("notice to %s: %s", recipient, subject)


@dataclass(frozen=True)
class Delivery:
    """What one delivery run did: notices sent, failed (still queued) and the last error."""

    sent: int
    failed: int
    last_error: str | None = None


def deliver_notices(conn: Connection, *, sender: NoticeSender, limit: int = 100) -> Delivery:
    """Send waiting notices; a failure is recorded on the notice, which stays queued."""
    sent = failed = 0
    last_error = None
    for notice in store.claim_notices(conn, limit):
        try:
            sender.send(notice["recipient"], notice["subject"], notice["body"])
        except Exception as exc:  # noqa: BLE001 - any sender failure keeps the notice queued
            last_error = f"{type(exc).__name__}: {exc}"[:500]
            store.mark_notice(conn, notice["id"], error=last_error)
            failed += 1
        else:
            store.mark_notice(conn, notice["id"], error=None)
            sent += 1
    return Delivery(sent, failed, last_error)


# "Who used my data"


def list_data_access(
    conn: Connection,
    *,
    settings: Settings,
    account_id: str,
    since: datetime | None = None,
    limit: int = 500,
) -> list[DataAccess]:
    """Every data call that returned the citizen's record: when, which app, dataset, purpose.

    Found through the keyed hash of his PIN (the audit never holds the number itself).
    """
    pin = _account_pin(conn, account_id)
    if pin is None:
        raise NotFoundError("No such account.")
    return store.list_data_access(
        conn, [audit_service.subject_hash(settings, pin)], since=since, limit=limit
    )


@dataclass(frozen=True)
class OrganizationDataAccess:
    """The accesses to one organization's data, as shown to its legal representative."""

    tax_code: str
    name: str
    accesses: list[DataAccess]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "tax_code": self.tax_code,
            "name": self.name,
            "data_access": [a.to_dict() for a in self.accesses],
        }


def list_organization_data_access(
    conn: Connection,
    *,
    settings: Settings,
    account_id: str,
    now: datetime | None = None,
    limit: int = 500,
) -> list[OrganizationDataAccess]:
    """For each organization the account legally represents, every data call that returned
    its records (found through the keyed hash of its tax code, as for a citizen's PIN)."""
    out = []
    for m in orgs_store.list_active_memberships(conn, account_id, now or utcnow()):
        if m.role != "representative":
            continue
        found = store.list_data_access(
            conn, [audit_service.subject_hash(settings, m.tax_code)], since=None, limit=limit
        )
        out.append(OrganizationDataAccess(m.tax_code, m.name, found))
    return out


def list_procedures(conn: Connection) -> list[dict[str, Any]]:
    """The administrative procedures a purpose may name (code, Vietnamese and English name)."""
    return store.list_procedures(conn)


# Audit of governance actions


def _audit(
    conn: Connection,
    settings: Settings,
    actor: Principal,
    kind: str,
    *,
    client_id: str | None = None,
    dataset_id: str | None = None,
    purpose: str | None = None,
    fields: Sequence[str] = (),
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append the action's record in the action's own transaction."""
    entry = AuditEntry(
        kind=kind,
        outcome="ok",
        client_id=client_id,
        actor=actor.actor,
        subject_hash=audit_service.subject_hash(settings, subject) if subject else None,
        dataset_id=dataset_id,
        purpose=purpose,
        fields=tuple(fields),
        detail={k: v for k, v in (detail or {}).items() if v is not None},
    )
    audit_service.append(conn, entry, key=audit_service.chain_key(settings))

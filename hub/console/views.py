"""The administrators' console (server-rendered, CSRF-protected, usable without JavaScript).

Staff sign in through the hub's own identity provider at level 2 (``urn:lgsp:loa:2``:
password and TOTP); the same browser session serves the OIDC provider. Every route checks
the account's governance roles: a platform administrator sees everything, a data owner
his agency's datasets, requests and grants, an auditor only the audit; a developer is
sent to the developer portal.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, request, session, stream_with_context
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from connectors.definition import DatasetDefinition
from hub.audit import service as audit_service
from hub.audit.models import AuditQuery
from hub.console import store
from hub.datasets import service as datasets_service
from hub.datasets import store as datasets_store
from hub.errors import HubError, NotFoundError, ValidationError
from hub.governance import service
from hub.governance.errors import RoleRequiredError
from hub.governance.models import ANY_PURPOSE, Principal
from hub.governance_pages import web
from hub.http import database, get_conn
from identity.accounts import store as accounts_store
from identity.csrf import check_csrf
from identity.i18n import t
from identity.login.views import hub_error_page
from identity.oauth import clients
from identity.orgs import store as orgs_store
from identity.sessions import Login

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
bp.register_error_handler(HubError, hub_error_page)

CONSOLE_ROLES = frozenset({"admin", "data_owner", "auditor"})
DECIDERS = ("admin", "data_owner")
AUDIT_OUTCOMES = ("found", "not_found", "refused", "failed", "ok")
PAGE_SIZE = 50
FLASH_KEY = "lgsp_console_flash"


class NotStaffError(RoleRequiredError):
    """The console is for platform administrators, data owners and auditors."""


def _enter(*roles: str) -> tuple[Login, Principal] | Response:
    """The signed-in staff member at level 2 holding one of ``roles``; else a redirect.

    No sign-in, or one below level 2 → the hub's sign-in (step-up) page; a developer →
    the developer portal; anyone else → 403.
    """
    login = web.current_login()
    if login is None or login.acr < 2:
        return web.to_login(acr=2, next_path=None if request.method == "GET" else "/console")
    principal = web.principal_of(login)
    if not principal.roles & CONSOLE_ROLES:
        if "developer" in principal.roles:
            return web.back("/developers")
        raise NotStaffError()
    service.require_any_role(principal, *(roles or tuple(CONSOLE_ROLES)))
    return login, principal


def _flash(key: str) -> None:
    session[FLASH_KEY] = key


def _page(template: str, principal: Principal, status: int = 200, **context: Any) -> Response:
    flash = session.pop(FLASH_KEY, None)
    return web.page(
        template,
        status,
        me=principal,
        nav=_nav(principal),
        message=t(flash) if isinstance(flash, str) else None,
        **context,
    )


def _nav(principal: Principal) -> list[tuple[str, str]]:
    items = []
    if principal.is_admin or principal.owner_agencies:
        items += [
            ("/console/requests", "con_nav_requests"),
            ("/console/grants", "con_nav_grants"),
            ("/console/datasets", "con_nav_datasets"),
        ]
    if principal.is_admin or "auditor" in principal.roles:
        items.append(("/console/audit", "con_nav_audit"))
    if principal.is_admin:
        items += [
            ("/console/clients", "con_nav_clients"),
            ("/console/organizations", "con_nav_organizations"),
            ("/console/accounts", "con_nav_accounts"),
            ("/console/holidays", "con_nav_holidays"),
        ]
    return items


def _owns(principal: Principal, definition: DatasetDefinition | None) -> bool:
    return principal.is_admin or (
        definition is not None and definition.owner.code in principal.owner_agencies
    )


def _end_of_day(value: str, what: str) -> datetime | None:
    """A form date (YYYY-MM-DD) as the end of that day in Asia/Ho_Chi_Minh."""
    text = web.clean(value, 10)
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError(t("con_bad_date", what=what)) from None
    return datetime.combine(day, time(23, 59, 59), service.VN_TZ)


def _local_datetime(value: str | None, what: str) -> datetime | None:
    """A datetime-local form value (Asia/Ho_Chi_Minh) as an aware datetime."""
    text = web.clean(value, 19)
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=service.VN_TZ)
        except ValueError:
            continue
    raise ValidationError(t("con_bad_date", what=what))


def _quota(value: str | None) -> int | None:
    text = web.clean(value, 12)
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValidationError(t("con_bad_quota"))
    return int(text)


@bp.get("")
def home() -> Response:
    """Each role's first page."""
    entered = _enter()
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    if principal.is_admin or principal.owner_agencies:
        return web.back("/console/requests")
    return web.back("/console/audit")


# Access requests


@bp.get("/requests")
def requests_inbox() -> Response:
    """The access-request inbox: pending first, oldest due first, overdue marked."""
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    status = request.args.get("status") or None
    if status not in (None, "pending", "approved", "refused", "withdrawn"):
        status = None
    found = service.list_access_requests(get_conn(), actor=principal, status=status)
    return _page(
        "console/requests.html",
        principal,
        requests=found,
        status_filter=status,
        now=service.utcnow(),
        titles=_titles(),
        any_purpose=ANY_PURPOSE,
    )


def _titles() -> dict[str, str]:
    conn = get_conn()
    return {
        ds.id: web.text_of(definition.title)
        if (definition := web.definition_of(conn, ds.id))
        else ds.id
        for ds in datasets_store.list_datasets(conn)
    }


def _request_page(
    principal: Principal, request_id: str, status: int = 200, **extra: Any
) -> Response:
    conn = get_conn()
    found = service.get_access_request(conn, actor=principal, request_id=request_id)
    definition = web.definition_of(conn, found.dataset_id)
    return _page(
        "console/request.html",
        principal,
        status,
        req=found,
        now=service.utcnow(),
        labels=web.field_labels(definition),
        sensitive=set(definition.sensitive_fields) if definition else set(),
        dataset_title=web.text_of(definition.title) if definition else found.dataset_id,
        procedures=web.procedure_names(conn),
        client_name=clients.find(conn, found.client_id, settings=web.settings()),
        may_decide=found.status == "pending" and _owns(principal, definition),
        approve_error=extra.pop("approve_error", None),
        refuse_error=extra.pop("refuse_error", None),
        form=extra.pop("form", MultiDict()),
        any_purpose=ANY_PURPOSE,
    )


@bp.get("/requests/<request_id>")
def request_show(request_id: str) -> Response:
    """One request, its history, and the approve / refuse forms."""
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    return _request_page(entered[1], request_id)


@bp.post("/requests/<request_id>/approve")
def request_approve(request_id: str) -> Response:
    """Approve as asked or narrower: a grant with the chosen fields and purposes."""
    check_csrf()
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    form = request.form
    try:
        fields = web.words(form.getlist("fields"))
        purposes = web.words(form.getlist("purposes"))
        if not fields:
            raise ValidationError(t("con_pick_fields"))
        if not purposes:
            raise ValidationError(t("con_pick_purposes"))
        service.approve_access_request(
            get_conn(),
            actor=principal,
            settings=web.settings(),
            request_id=request_id,
            fields=fields,
            purposes=purposes,
            valid_until=_end_of_day(form.get("valid_until", ""), t("con_valid_until")),
            daily_quota=_quota(form.get("daily_quota")),
            note=web.clean(form.get("note"), 5000) or None,
        )
    except ValidationError as exc:
        return _request_page(principal, request_id, 400, approve_error=exc.detail, form=form)
    _flash("con_approved")
    return web.back(f"/console/requests/{request_id}")


@bp.post("/requests/<request_id>/refuse")
def request_refuse(request_id: str) -> Response:
    """Refuse in writing: the reasons are required (Decree 47/2020 as amended)."""
    check_csrf()
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    form = request.form
    try:
        service.refuse_access_request(
            get_conn(),
            actor=principal,
            settings=web.settings(),
            request_id=request_id,
            reasons=web.clean(form.get("reasons"), 5000),
            legal_basis=web.clean(form.get("legal_basis"), 2000) or None,
        )
    except ValidationError:
        return _request_page(
            principal, request_id, 400, refuse_error=t("con_reasons_required"), form=form
        )
    _flash("con_refused")
    return web.back(f"/console/requests/{request_id}")


# Grants


@bp.get("/grants")
def grants_list() -> Response:
    """Grants the staff member may see, filtered by client and dataset."""
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    client_id = web.clean(request.args.get("client_id")) or None
    dataset_id = web.clean(request.args.get("dataset_id"), 64) or None
    include_revoked = request.args.get("include_revoked") == "1"
    found = service.list_grants(
        get_conn(),
        actor=principal,
        client_id=client_id,
        dataset_id=dataset_id,
        include_revoked=include_revoked,
    )
    return _page(
        "console/grants.html",
        principal,
        grants=found,
        now=service.utcnow(),
        filters={
            "client_id": client_id or "",
            "dataset_id": dataset_id or "",
            "include_revoked": include_revoked,
        },
        client_names={
            c.client_id: c.name for c in clients.list_clients(get_conn(), settings=web.settings())
        },
    )


def _client_names() -> dict[str, str]:
    return {c.client_id: c.name for c in clients.list_clients(get_conn(), settings=web.settings())}


def _grant_form(principal: Principal, status: int = 200, **context: Any) -> Response:
    conn = get_conn()
    datasets = []
    for ds in datasets_store.list_datasets(conn):
        definition = web.definition_of(conn, ds.id)
        if definition is not None and _owns(principal, definition):
            labels = web.field_labels(definition)
            sensitive = set(definition.sensitive_fields)
            datasets.append(
                {
                    "id": ds.id,
                    "title": web.text_of(definition.title),
                    "fields": [
                        (
                            f.name,
                            labels.get(f.name, f.name),
                            f.name in sensitive,
                        )
                        for f in definition.response.fields
                    ],
                }
            )
    return _page(
        "console/grant_new.html",
        principal,
        status,
        datasets=datasets,
        clients=clients.list_clients(conn, settings=web.settings()),
        procedures=service.list_procedures(conn),
        form=context.pop("form", MultiDict()),
        error=context.pop("error", None),
    )


@bp.get("/grants/new")
def grant_new() -> Response:
    """The form to grant a client a dataset directly (without a request)."""
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    return _grant_form(entered[1])


@bp.post("/grants")
def grant_create() -> Response:
    """Create a grant (admin, or the dataset's data owner)."""
    check_csrf()
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    form = request.form
    try:
        dataset_id = web.clean(form.get("dataset_id"), 64)
        fields = [
            f.partition(":")[2] for f in form.getlist("fields") if f.startswith(dataset_id + ":")
        ]
        grant = service.grant_access(
            get_conn(),
            actor=principal,
            settings=web.settings(),
            client_id=web.clean(form.get("client_id")),
            dataset_id=dataset_id,
            fields=web.words(fields),
            purposes=web.words(form.getlist("purposes")),
            legal_basis=web.clean(form.get("legal_basis"), 2000) or None,
            valid_from=_local_datetime(form.get("valid_from"), t("con_valid_from")),
            valid_until=_end_of_day(form.get("valid_until", ""), t("con_valid_until")),
            daily_quota=_quota(form.get("daily_quota")),
        )
    except (ValidationError, NotFoundError) as exc:
        return _grant_form(principal, 400, form=form, error=exc.detail)
    _flash("con_grant_created")
    return web.back("/console/grants?" + urlencode({"dataset_id": grant.dataset_id}))


@bp.post("/grants/<grant_id>/revoke")
def grant_revoke(grant_id: str) -> Response:
    """Revoke a grant with a reason; the app's very next call is refused."""
    check_csrf()
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    service.revoke_grant(
        get_conn(),
        actor=principal,
        settings=web.settings(),
        grant_id=grant_id,
        reason=web.clean(request.form.get("reason"), 2000) or None,
    )
    _flash("con_grant_revoked")
    return web.back("/console/grants")


# Audit


def _audit_filters(args: MultiDict[str, str]) -> dict[str, str]:
    keys = ("client_id", "dataset_id", "purpose", "outcome", "kind", "subject", "since", "until")
    limits = {"subject": 20, "dataset_id": 64, "purpose": 64, "outcome": 64, "kind": 64}
    return {k: web.clean(args.get(k), limits.get(k, web.MAX_FILTER)) for k in keys}


def _audit_query(filters: dict[str, str]) -> AuditQuery:
    return audit_service.search_query(
        web.settings(),
        client_id=filters["client_id"] or None,
        dataset_id=filters["dataset_id"] or None,
        purpose=filters["purpose"] or None,
        outcome=filters["outcome"] or None,
        kind=filters["kind"] or None,
        subject=filters["subject"] or None,
        since=_local_datetime(filters["since"], t("con_since")),
        until=_local_datetime(filters["until"], t("con_until")),
    )


@bp.get("/audit")
def audit_search() -> Response:
    """Search the audit log; the data subject's PIN is hashed before it is looked up."""
    entered = _enter("admin", "auditor")
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    filters = _audit_filters(request.args)
    offset_text = web.clean(request.args.get("offset"), 9)
    offset = int(offset_text) if offset_text.isdigit() else 0
    records: list[Any] = []
    total = 0
    error = None
    try:
        query = _audit_query(filters)
    except ValidationError as exc:
        error = exc.detail
    else:
        records, total = audit_service.search(get_conn(), query, limit=PAGE_SIZE, offset=offset)
    shown = {k: v for k, v in filters.items() if v}
    return _page(
        "console/audit.html",
        principal,
        400 if error else 200,
        records=records,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        filters=filters,
        outcomes=AUDIT_OUTCOMES,
        error=error,
        csv_url="/console/audit.csv" + ("?" + urlencode(shown) if shown else ""),
        next_url="/console/audit?" + urlencode({**shown, "offset": offset + PAGE_SIZE}),
        prev_url="/console/audit?" + urlencode({**shown, "offset": max(0, offset - PAGE_SIZE)}),
    )


@bp.get("/audit.csv")
def audit_csv() -> Response:
    """Every matching audit record as CSV (cells that look like formulas are defused)."""
    entered = _enter("admin", "auditor")
    if isinstance(entered, Response):
        return entered
    query = _audit_query(_audit_filters(request.args))
    db = database()

    def lines() -> Iterator[str]:
        # The request's connection is released before a streamed body is sent: use our own.
        with db.transaction() as conn:
            yield from audit_service.export_csv(conn, query)

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# Clients, datasets, organizations, accounts


@bp.get("/clients")
def clients_list() -> Response:
    """Every registered agency app (administrators)."""
    entered = _enter("admin")
    if isinstance(entered, Response):
        return entered
    conn = get_conn()
    return _page(
        "console/clients.html",
        entered[1],
        clients=clients.list_clients(conn, settings=web.settings()),
        developers=store.list_client_developers(conn),
    )


@bp.get("/datasets")
def datasets_list() -> Response:
    """Datasets: all (administrator) or the data owner's agency's."""
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    conn = get_conn()
    rows = []
    for ds in datasets_service.list_datasets(conn):
        definition = web.definition_of(conn, ds.id)
        if _owns(principal, definition):
            rows.append({"ds": ds, "definition": definition})
    return _page("console/datasets.html", principal, rows=rows)


@bp.get("/datasets/<dataset_id>")
def dataset_show(dataset_id: str) -> Response:
    """A dataset's definition (as YAML), its versions, and the enable/disable switch."""
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    conn = get_conn()
    ds = datasets_store.get(conn, dataset_id)
    definition = web.definition_of(conn, ds.id)
    if not _owns(principal, definition):
        raise RoleRequiredError(t("con_not_your_dataset"))
    return _page(
        "console/dataset.html",
        principal,
        ds=ds,
        definition=definition,
        labels=web.field_labels(definition),
        yaml_text=definition.to_yaml() if definition else "",
        versions=store.list_dataset_versions(conn, ds.id),
    )


@bp.post("/datasets/<dataset_id>/enabled")
def dataset_enable(dataset_id: str) -> Response:
    """Enable or disable a dataset (disabled: out of the catalogue, queries refused)."""
    check_csrf()
    entered = _enter(*DECIDERS)
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    conn = get_conn()
    ds = datasets_store.get(conn, dataset_id)
    if not _owns(principal, web.definition_of(conn, ds.id)):
        raise RoleRequiredError(t("con_not_your_dataset"))
    enabled = request.form.get("enabled") == "1"
    datasets_service.set_enabled(conn, ds.id, enabled=enabled)
    service.record_admin_action(
        conn,
        web.settings(),
        principal,
        "dataset.enable" if enabled else "dataset.disable",
        dataset_id=ds.id,
        detail={"via": "console"},
    )
    _flash("con_dataset_enabled" if enabled else "con_dataset_disabled")
    return web.back(f"/console/datasets/{ds.id}")


@bp.get("/organizations")
def organizations_list() -> Response:
    """Organizations known to the hub (administrators, read-only)."""
    entered = _enter("admin")
    if isinstance(entered, Response):
        return entered
    return _page(
        "console/organizations.html",
        entered[1],
        organizations=orgs_store.list_organizations(get_conn()),
    )


@bp.get("/accounts")
def accounts_list() -> Response:
    """Accounts with their level and governance roles (administrators, read-only)."""
    entered = _enter("admin")
    if isinstance(entered, Response):
        return entered
    conn = get_conn()
    return _page(
        "console/accounts.html",
        entered[1],
        accounts=accounts_store.list_accounts(conn, limit=1000),
        agencies=store.list_staff_agencies(conn),
    )


# Public holidays


def _holidays_page(principal: Principal, year: int, status: int = 200, **context: Any) -> Response:
    return _page(
        "console/holidays.html",
        principal,
        status,
        year=year,
        days=service.holiday_calendar(get_conn(), year),
        **context,
    )


def _year(value: str | None) -> int:
    text = web.clean(value, 4)
    if text.isdigit() and 1900 <= int(text) <= 2200:
        return int(text)
    return datetime.now(service.VN_TZ).year


@bp.get("/holidays")
def holidays_list() -> Response:
    """A year's days off, and the form to declare one (administrators)."""
    entered = _enter("admin")
    if isinstance(entered, Response):
        return entered
    return _holidays_page(entered[1], _year(request.args.get("year")))


@bp.post("/holidays")
def holiday_declare() -> Response:
    """Declare a public holiday as the government announced it: due dates skip it."""
    check_csrf()
    entered = _enter("admin")
    if isinstance(entered, Response):
        return entered
    _, principal = entered
    form = request.form
    text = web.clean(form.get("day"), 10)
    try:
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            raise ValidationError(t("con_bad_date", what=t("con_day"))) from None
        service.declare_holiday(
            get_conn(),
            actor=principal,
            settings=web.settings(),
            day=day,
            name_vi=web.clean(form.get("name_vi"), 200),
            name_en=web.clean(form.get("name_en"), 200),
        )
    except ValidationError as exc:
        return _holidays_page(principal, _year(text[:4]), 400, form=form, error=exc.detail)
    _flash("con_holiday_declared")
    return web.back(f"/console/holidays?year={day.year}")


@bp.post("/holidays/<day>/remove")
def holiday_remove(day: str) -> Response:
    """Withdraw a declared public holiday."""
    check_csrf()
    entered = _enter("admin")
    if isinstance(entered, Response):
        return entered
    try:
        when = datetime.strptime(day, "%Y-%m-%d").date()
    except ValueError:
        raise NotFoundError() from None
    service.remove_holiday(get_conn(), actor=entered[1], settings=web.settings(), day=when)
    _flash("con_holiday_removed")
    return web.back(f"/console/holidays?year={when.year}")


def init_app(app: Flask) -> None:
    """Register the console."""
    app.register_blueprint(bp)

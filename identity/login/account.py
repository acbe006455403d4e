"""The citizen's /account pages: profile, password, two-step verification, active sign-ins."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from flask import Blueprint, redirect, request, session
from werkzeug.wrappers import Response

from hub.db import Connection
from hub.errors import HubError, NotFoundError, ValidationError
from hub.http import get_conn
from identity import events, mfa, sessions
from identity.accounts import service as accounts
from identity.accounts import store as account_store
from identity.accounts.models import Account
from identity.csrf import check_csrf
from identity.i18n import t
from identity.login import ACCOUNT_SECTIONS, login_url
from identity.login.views import hub_error_page, page
from identity.orgs import service as orgs
from identity.orgs.models import Organization
from identity.sessions import Login
from identity.validation import MAX_PASSWORD, MIN_PASSWORD

bp = Blueprint("account", __name__, url_prefix="/account")

FLASH_KEY = "lgsp_flash"


bp.register_error_handler(HubError, hub_error_page)


# The services' details are English (for the API and the CLI); these pages say the same
# thing in the page's language, by the field the error names.
_FIELD_MESSAGES = {
    "current_password": "acc_current_password_wrong",
    "password": "acc_password_length",
    "new_password": "acc_password_unchanged",
    "code": "otp_failed",
    "pin": "org_bad_pin",
    "expires_at": "org_bad_expiry",
    "member": "org_is_representative",
}


def _page_error(exc: HubError) -> str:
    if isinstance(exc, NotFoundError):
        return t("org_no_such_person")
    key = _FIELD_MESSAGES.get(str(exc.extra.get("field", "")))
    return t(key, min=MIN_PASSWORD, max=MAX_PASSWORD) if key else exc.detail


def _require_login() -> Login | Response:
    login = sessions.current_login(get_conn())
    if login is None:
        target = request.full_path if request.method == "GET" else "/account"
        return redirect(login_url(target.rstrip("?")), code=303)
    return login


def _flash(key: str) -> None:
    session[FLASH_KEY] = key


def _take_flash() -> str | None:
    key = session.pop(FLASH_KEY, None)
    return t(key) if isinstance(key, str) else None


def _back(path: str = "/account") -> Response:
    return redirect(path, code=303)


@bp.get("")
def overview() -> Response:
    """Profile, organizations, and the sections other parts of the hub contribute."""
    login = _require_login()
    if isinstance(login, Response):
        return login
    conn = get_conn()
    account = account_store.get(conn, login.account_id)
    sections = [
        (section, section.load(conn, account) if section.load else {})
        for section in ACCOUNT_SECTIONS
    ]
    return page(
        "account.html",
        account=account,
        login=login,
        memberships=orgs.list_memberships(conn, account.id, now=sessions.utcnow()),
        sections=sections,
        message=_take_flash(),
    )


@bp.get("/password")
def password_form() -> Response:
    """The password change form."""
    login = _require_login()
    if isinstance(login, Response):
        return login
    return page("account_password.html", error=None)


@bp.post("/password")
def password_submit() -> Response:
    """Change the password and sign out every other session."""
    check_csrf()
    login = _require_login()
    if isinstance(login, Response):
        return login
    conn = get_conn()
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return page("account_password.html", 400, error=t("passwords_differ"))
    try:
        accounts.change_password(
            conn,
            account_id=login.account_id,
            current_password=request.form.get("current_password", ""),
            new_password=new,
        )
    except ValidationError as exc:
        return page("account_password.html", 400, error=_page_error(exc))
    sessions.end_all_sessions(conn, login.account_id, except_id=login.session_id)
    events.record(
        conn,
        "account.password_changed",
        account_id=login.account_id,
        session_id=login.session_id,
        ip=request.remote_addr,
    )
    _flash("password_changed")
    return _back()


@bp.get("/mfa")
def mfa_form() -> Response:
    """Start (or continue) enrolling an authenticator app, or offer to turn it off."""
    login = _require_login()
    if isinstance(login, Response):
        return login
    conn = get_conn()
    account = account_store.get(conn, login.account_id)
    if account.mfa_enabled:
        return page("account_mfa.html", account=account, enrol=None, error=None)
    secret = mfa.pending_secret(conn, account_id=account.id) or mfa.begin_enrolment(
        conn, account_id=account.id
    )
    return page("account_mfa.html", account=account, enrol=_enrolment(account, secret), error=None)


def _enrolment(account: Account, secret: str) -> dict[str, str]:
    uri = mfa.provisioning_uri(secret, account)
    return {"secret": secret, "uri": uri, "qr_svg": mfa.qr_svg(uri)}


@bp.post("/mfa")
def mfa_submit() -> Response:
    """Confirm the authenticator with a code, then show the recovery codes once."""
    check_csrf()
    login = _require_login()
    if isinstance(login, Response):
        return login
    conn = get_conn()
    account = account_store.get(conn, login.account_id)
    secret = mfa.pending_secret(conn, account_id=account.id)
    if account.mfa_enabled or secret is None:
        return _back("/account/mfa")
    try:
        codes = mfa.confirm_enrolment(
            conn, account_id=account.id, code=request.form.get("code", ""), now=sessions.utcnow()
        )
    except ValidationError as exc:
        # Keep the pending secret: this response must commit nothing, and nothing changed.
        return page(
            "account_mfa.html",
            400,
            account=account,
            enrol=_enrolment(account, secret),
            error=_page_error(exc),
        )
    events.record(
        conn,
        "mfa.enabled",
        account_id=account.id,
        session_id=login.session_id,
        ip=request.remote_addr,
    )
    return page("account_recovery_codes.html", codes=codes)


@bp.post("/mfa/disable")
def mfa_disable() -> Response:
    """Turn two-step verification off (needs the current password)."""
    check_csrf()
    login = _require_login()
    if isinstance(login, Response):
        return login
    conn = get_conn()
    account = account_store.get(conn, login.account_id)
    if not accounts.check_password(
        conn, account_id=account.id, password=request.form.get("password", "")
    ):
        return page("account_mfa.html", 400, account=account, enrol=None, error=t("login_failed"))
    mfa.disable(conn, account_id=account.id)
    events.record(
        conn,
        "mfa.disabled",
        account_id=account.id,
        session_id=login.session_id,
        ip=request.remote_addr,
    )
    _flash("mfa_disabled")
    return _back()


@bp.get("/sessions")
def sessions_list() -> Response:
    """The account's active sign-ins."""
    login = _require_login()
    if isinstance(login, Response):
        return login
    items = sessions.list_sessions(get_conn(), login.account_id, now=sessions.utcnow())
    return page("account_sessions.html", items=items, login=login, message=_take_flash())


@bp.post("/sessions/end")
def sessions_end() -> Response:
    """Sign out of one session (this one included)."""
    check_csrf()
    login = _require_login()
    if isinstance(login, Response):
        return login
    conn = get_conn()
    target = request.form.get("session_id", "")[:100]
    if sessions.end_account_session(conn, login.account_id, target):
        events.record(
            conn,
            "logout",
            account_id=login.account_id,
            session_id=target,
            ip=request.remote_addr,
            detail={"from_session": login.session_id},
        )
    if target == login.session_id:
        return sessions.clear_cookie(page("signed_out.html"))
    _flash("session_ended")
    return _back("/account/sessions")


@bp.post("/sessions/end-all")
def sessions_end_all() -> Response:
    """Sign out everywhere, this browser included."""
    check_csrf()
    login = _require_login()
    if isinstance(login, Response):
        return login
    conn = get_conn()
    count = sessions.end_all_sessions(conn, login.account_id)
    events.record(
        conn,
        "logout.all",
        account_id=login.account_id,
        session_id=login.session_id,
        ip=request.remote_addr,
        detail={"ended": count},
    )
    return sessions.clear_cookie(page("signed_out.html"))


# --- a representative's staff ----------------------------------------------------------


def _representative(tax_code: str, *, post: bool = False) -> tuple[Login, Organization] | Response:
    """The signed-in representative (at level 2) and his organization, or where to go; a
    form ``post`` is checked for its CSRF token first."""
    if post:
        check_csrf()
    login = _require_login()
    if isinstance(login, Response):
        return login
    if login.acr < 2:
        target = f"/account/organizations/{quote(tax_code[:20])}/members"
        return redirect(login_url(target, acr=2), code=303)
    return login, orgs.represented(get_conn(), login.account_id, tax_code, sessions.utcnow())


def _members_page(org: Organization, status: int = 200, **context: Any) -> Response:
    return page(
        "account_members.html",
        status,
        org=org,
        members=orgs.members(get_conn(), org),
        now=sessions.utcnow(),
        form=context.pop("form", {}),
        message=_take_flash(),
        **context,
    )


def _staff_changed(
    conn: Connection, login: Login, org: Organization, kind: str, **detail: str
) -> Response:
    """Record a change to the staff as a security event, and show the members again."""
    events.record(
        conn,
        kind,
        account_id=login.account_id,
        session_id=login.session_id,
        ip=request.remote_addr,
        detail={"tax_code": org.tax_code, **detail},
    )
    _flash(kind.replace(".", "_"))
    return _back(f"/account/organizations/{org.tax_code}/members")


def _through_day(value: str) -> datetime:
    """A form date (YYYY-MM-DD): valid through that whole day in Hà Nội (UTC+7)."""
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ValidationError("Give a date as YYYY-MM-DD.", field="expires_at") from None
    return datetime(day.year, day.month, day.day, 17, 0, tzinfo=UTC)


@bp.get("/organizations/<tax_code>/members")
def members(tax_code: str) -> Response:
    """A representative's page: the organization's members, and staff to authorise."""
    got = _representative(tax_code)
    return got if isinstance(got, Response) else _members_page(got[1])


@bp.post("/organizations/<tax_code>/members")
def members_authorise(tax_code: str) -> Response:
    """Authorise a citizen (by PIN) to act for the organization until a day, or renew."""
    got = _representative(tax_code, post=True)
    if isinstance(got, Response):
        return got
    login, org = got
    conn = get_conn()
    form = {
        "pin": request.form.get("pin", "").strip()[:20],
        "expires": request.form.get("expires", "")[:10],
    }
    try:
        orgs.authorise_staff(
            conn,
            representative_id=login.account_id,
            tax_code=org.tax_code,
            pin=form["pin"],
            expires_at=_through_day(form["expires"]),
            now=sessions.utcnow(),
        )
    except (ValidationError, NotFoundError) as exc:
        return _members_page(org, 400, form=form, error=_page_error(exc))
    return _staff_changed(conn, login, org, "org.staff_authorised", until=form["expires"])


@bp.post("/organizations/<tax_code>/members/end")
def members_end(tax_code: str) -> Response:
    """End a staff member's authorisation now; his apps lose the organization at refresh."""
    got = _representative(tax_code, post=True)
    if isinstance(got, Response):
        return got
    login, org = got
    conn = get_conn()
    member = request.form.get("account_id", "")[:64]
    try:
        uuid.UUID(member)
    except ValueError:
        return _members_page(org, 400, error=t("org_no_such_person"))
    if orgs.end_staff(
        conn,
        representative_id=login.account_id,
        tax_code=org.tax_code,
        account_id=member,
        now=sessions.utcnow(),
    ):
        return _staff_changed(conn, login, org, "org.staff_ended", member=member)
    return _back(f"/account/organizations/{org.tax_code}/members")

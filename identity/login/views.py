"""The sign-in pages: password, second factor (TOTP or recovery code), step-up, sign-out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Blueprint, make_response, redirect, render_template, request, session
from werkzeug.wrappers import Response

from hub.errors import HubError
from hub.http import database, get_conn
from identity import events, sessions
from identity.accounts import store as account_store
from identity.accounts.models import Account
from identity.csrf import CsrfError, check_csrf
from identity.i18n import t
from identity.login import login_url, safe_next
from identity.login import service as signin

_ROOT = Path(__file__).resolve().parent.parent
bp = Blueprint(
    "login",
    __name__,
    template_folder=str(_ROOT / "templates"),
    static_folder=str(_ROOT / "static"),
    static_url_path="/static/identity",
)

PENDING_KEY = "lgsp_pending"
PENDING_TTL = 300


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A rendered page that is never cached."""
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(message: str, status: int) -> Response:
    """The hub's HTML error page."""
    return page("error.html", status, message=message)


def csrf_failed(exc: CsrfError) -> Response:
    """The page shown when a form's CSRF token is missing or wrong."""
    return error_page(t("csrf_failed"), 400)


def hub_error_page(exc: HubError) -> Response:
    """A domain error raised by a page, as an HTML page (a 500 never shows its text)."""
    if isinstance(exc, CsrfError):
        return csrf_failed(exc)
    return error_page(exc.detail if exc.status < 500 else t("error_title"), exc.status)


bp.register_error_handler(HubError, hub_error_page)


def _acr_arg(value: str | None) -> int:
    return 2 if value == "2" else 1


def _hint(value: str | None) -> str:
    return value if value and len(value) == 12 and value.isdigit() else ""


def _ip() -> str | None:
    return request.remote_addr


def _redirect(target: str) -> Response:
    response = redirect(target, code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_page(status: int = 200, *, error: str | None = None, pin: str = "") -> Response:
    source = request.form if request.method == "POST" else request.args
    return page(
        "login.html",
        status,
        next=safe_next(source.get("next")),
        acr=_acr_arg(source.get("acr")),
        force=source.get("force") == "1",
        pin=pin or _hint(source.get("login_hint")),
        error=error,
    )


def _level2_ready(account: Account) -> bool:
    return account.level >= 2 and account.mfa_enabled


def _cannot_reach_level2(account: Account, next_path: str) -> Response | None:
    if account.level < 2:
        return page("level_needed.html", 403, reason="level", next=next_path)
    if not account.mfa_enabled:
        return page("level_needed.html", 403, reason="mfa", next=next_path)
    return None


def _start_pending(account_id: str, next_path: str, *, stepup: str | None) -> None:
    session[PENDING_KEY] = {
        "account_id": account_id,
        "next": next_path,
        "stepup": stepup,
        "at": int(time.time()),
    }


def _pending() -> dict[str, Any] | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - int(pending.get("at", 0)) > PENDING_TTL:
        return None
    return pending


@bp.get("/login")
def login_form() -> Response:
    """Show the sign-in form, or continue at once when the session is strong enough."""
    conn = get_conn()
    next_path = safe_next(request.args.get("next"))
    acr = _acr_arg(request.args.get("acr"))
    current = sessions.current_login(conn)
    if current is not None and request.args.get("force") != "1":
        if current.acr >= acr:
            return _redirect(next_path)
        account = account_store.get(conn, current.account_id)
        refused = _cannot_reach_level2(account, next_path)
        if refused is not None:
            return refused
        _start_pending(account.id, next_path, stepup=current.session_id)
        return _redirect("/login/otp")
    return _login_page()


@bp.post("/login")
def login_submit() -> Response:
    """Check the PIN and password; then finish, or ask for the second factor."""
    check_csrf()
    next_path = safe_next(request.form.get("next"))
    acr = _acr_arg(request.form.get("acr"))
    pin = request.form.get("pin", "").strip()
    password = request.form.get("password", "")
    if len(pin) > 64:
        pin = pin[:64]
    now = sessions.utcnow()
    previous = sessions.current_login(get_conn())
    token = None
    with database().transaction() as conn:
        outcome = signin.check_password(conn, pin=pin, password=password, ip=_ip(), now=now)
        account = outcome.account
        needs_otp = account is not None and acr >= 2 and _level2_ready(account)
        if account is not None and not needs_otp:
            if previous is not None:
                sessions.end_session(conn, previous.session_id)
            login, token = sessions.begin_session(
                conn,
                account_id=account.id,
                acr=1,
                amr=("pwd",),
                now=now,
                ip=_ip(),
                user_agent=request.user_agent.string,
            )
            events.record(
                conn,
                "login.success",
                account_id=account.id,
                session_id=login.session_id,
                ip=_ip(),
                detail={"acr": 1, "amr": ["pwd"]},
            )
        elif account is not None:
            events.record(conn, "login.mfa_required", account_id=account.id, ip=_ip())
    if outcome.retry_after:
        wait = outcome.retry_after
        response = _login_page(429, error=t("too_many_attempts", seconds=wait), pin=pin)
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if account is None:
        return _login_page(401, error=t("login_failed"), pin=pin)
    session.pop(PENDING_KEY, None)
    if needs_otp:
        _start_pending(account.id, next_path, stepup=None)
        return _redirect("/login/otp")
    response = (_cannot_reach_level2(account, next_path) if acr >= 2 else None) or _redirect(
        next_path
    )
    assert token is not None
    return sessions.set_cookie(response, token)


@bp.get("/login/otp")
def otp_form() -> Response:
    """Ask for the second factor of a sign-in or step-up in progress."""
    pending = _pending()
    if pending is None:
        return _redirect(login_url("/account"))
    return page("otp.html", stepup=bool(pending.get("stepup")), error=None)


@bp.post("/login/otp")
def otp_submit() -> Response:
    """Check the code; finish the sign-in at level 2, or raise the current session to it."""
    check_csrf()
    pending = _pending()
    if pending is None:
        return page(
            "login.html", 400, next="/account", acr=1, force=False, pin="", error=t("otp_expired")
        )
    account_id = str(pending["account_id"])
    stepup = pending.get("stepup")
    next_path = safe_next(pending.get("next"))
    now = sessions.utcnow()
    token = None
    expired = False
    with database().transaction() as conn:
        outcome = signin.check_second_factor(
            conn, account_id=account_id, code=request.form.get("code", ""), ip=_ip(), now=now
        )
        account = outcome.account
        if account is not None:
            acr = 2 if account.level >= 2 else 1
            amr = ("pwd", "otp")
            if stepup:
                current = sessions.current_login(conn)
                login = None
                if current is not None and current.session_id == stepup:
                    login = sessions.step_up(conn, str(stepup), acr=acr, amr=amr, now=now)
                expired = login is None or login.account_id != account.id
                kind = "login.stepup"
            else:
                previous = sessions.current_login(conn)
                if previous is not None:
                    sessions.end_session(conn, previous.session_id)
                login, token = sessions.begin_session(
                    conn,
                    account_id=account.id,
                    acr=acr,
                    amr=amr,
                    now=now,
                    ip=_ip(),
                    user_agent=request.user_agent.string,
                )
                kind = "login.success"
            if not expired and login is not None:
                events.record(
                    conn,
                    kind,
                    account_id=account.id,
                    session_id=login.session_id,
                    ip=_ip(),
                    detail={"acr": acr, "amr": list(amr)},
                )
    if outcome.retry_after:
        response = page(
            "otp.html",
            429,
            stepup=bool(stepup),
            error=t("too_many_attempts", seconds=outcome.retry_after),
        )
        response.headers["Retry-After"] = str(outcome.retry_after)
        return response
    if account is None:
        return page("otp.html", 401, stepup=bool(stepup), error=t("otp_failed"))
    session.pop(PENDING_KEY, None)
    if expired:
        return _redirect(login_url(next_path, acr=2))
    response = _redirect(next_path)
    return sessions.set_cookie(response, token) if token else response


@bp.post("/logout")
def logout() -> Response:
    """End this browser's sign-in."""
    check_csrf()
    conn = get_conn()
    current = sessions.current_login(conn)
    if current is not None:
        sessions.end_session(conn, current.session_id)
        events.record(
            conn, "logout", account_id=current.account_id, session_id=current.session_id, ip=_ip()
        )
    session.pop(PENDING_KEY, None)
    return sessions.clear_cookie(page("signed_out.html"))

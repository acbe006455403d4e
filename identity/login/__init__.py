"""Sign-in, MFA and the citizen's /account pages.

Contract used by the OAuth authorize endpoint (see docs/identity-accounts.md):
``GET /login?next=<relative path>&acr=<1|2>&force=<0|1>&login_hint=<pin>``; after a
successful sign-in the browser is sent to ``next`` with a hub session (``identity.sessions``)
whose ``acr``/``amr``/``auth_time`` say how strongly it was authenticated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask

from hub.db import Connection
from identity.accounts.models import Account


@dataclass(frozen=True)
class AccountSection:
    """A block of the /account page contributed by another part of the hub.

    ``template`` is included in the page with ``account``, ``login`` and ``section``
    (this object) plus whatever ``load(conn, account)`` returns, under ``data``.
    Forms inside it use ``csrf_token()`` and post to the contributor's own routes.
    """

    name: str
    template: str
    load: Callable[[Connection, Account], dict[str, Any]] | None = None
    order: int = 100


# Extension point of /account: the OAuth provider adds "apps you consented to" here, and
# the governance work "who used my data". Register at init_app time.
ACCOUNT_SECTIONS: list[AccountSection] = []


def register_account_section(section: AccountSection) -> None:
    """Add (or replace, by name) a section of the /account page."""
    ACCOUNT_SECTIONS[:] = [s for s in ACCOUNT_SECTIONS if s.name != section.name]
    ACCOUNT_SECTIONS.append(section)
    ACCOUNT_SECTIONS.sort(key=lambda s: (s.order, s.name))


DEFAULT_NEXT = "/account"


def safe_next(target: str | None) -> str:
    """``target`` when it is a same-site relative path ("/…", not "//…"), else /account."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return DEFAULT_NEXT
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return DEFAULT_NEXT
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return DEFAULT_NEXT
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return target


def login_url(
    next_path: str, *, acr: int | None = None, force: bool = False, login_hint: str | None = None
) -> str:
    """The sign-in page URL that returns to ``next_path`` afterwards."""
    params: dict[str, str] = {"next": next_path}
    if acr:
        params["acr"] = str(acr)
    if force:
        params["force"] = "1"
    if login_hint:
        params["login_hint"] = login_hint
    return "/login?" + urlencode(params)


def init_app(app: Flask) -> None:
    """Register the sign-in and account pages, CSRF and i18n helpers on ``app``."""
    from identity import csrf, i18n
    from identity.login import account, views

    i18n.init_app(app)
    app.jinja_env.globals.update(csrf_token=csrf.csrf_token)
    app.register_blueprint(views.bp)
    app.register_blueprint(account.bp)
    app.register_error_handler(csrf.CsrfError, views.csrf_failed)

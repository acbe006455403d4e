"""Web glue shared by the governance pages: sign-in checks, principals, local times, labels.

The console, the developer portal and the citizen's pages render with the identity
templates (``base.html``) and report domain errors as the hub's HTML error page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import Flask, current_app, redirect, request
from werkzeug.wrappers import Response

from connectors.definition import DatasetDefinition
from hub.config import Settings
from hub.datasets import store as datasets_store
from hub.datasets.views import runtime
from hub.db import Connection
from hub.governance import service
from hub.governance.models import Principal
from hub.http import get_conn
from identity import sessions
from identity.i18n import current_language
from identity.login import login_url
from identity.login.views import page
from identity.sessions import Login

__all__ = ["page"]

MAX_FILTER = 200


def settings() -> Settings:
    """The application's settings."""
    found: Settings = current_app.extensions["lgsp.settings"]
    return found


def current_login() -> Login | None:
    """The browser's hub sign-in (the same session the OIDC provider uses), or None."""
    return sessions.current_login(get_conn())


def here() -> str:
    """The current page as a relative path (query kept) to come back to after sign-in."""
    full = request.full_path
    return full[:-1] if full.endswith("?") else full


def to_login(*, acr: int | None = None, next_path: str | None = None) -> Response:
    """Send the browser to the hub's sign-in page, returning here (GET) afterwards."""
    target = next_path or (here() if request.method == "GET" else request.path)
    response = redirect(login_url(target, acr=acr), code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def back(path: str) -> Response:
    """A 303 redirect after a successful POST."""
    response = redirect(path, code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def principal_of(login: Login) -> Principal:
    """The governance principal of a signed-in account (its level is the session's acr)."""
    return service.principal_for_account(
        get_conn(),
        account_id=login.account_id,
        level=login.acr,
        actor=f"account:{login.account_id}",
    )


def local_time(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh ('' for None)."""
    if value is None:
        return ""
    return value.astimezone(service.VN_TZ).strftime("%d/%m/%Y %H:%M")


def local_date(value: datetime | None) -> str:
    """dd/mm/yyyy in Asia/Ho_Chi_Minh ('' for None)."""
    if value is None:
        return ""
    return value.astimezone(service.VN_TZ).strftime("%d/%m/%Y")


def text_of(value: Any) -> str:
    """The request's language of a {vi, en} text (Vietnamese when English is missing)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value.get(current_language()) or value.get("vi") or "")
    lang = current_language()
    return str(getattr(value, lang, None) or getattr(value, "vi", ""))


def definition_of(conn: Connection, dataset_id: str) -> DatasetDefinition | None:
    """The parsed current definition of a dataset, or None when unknown or unreadable."""
    ds = datasets_store.find_by_id(conn, dataset_id)
    if ds is None:
        return None
    try:
        return runtime().definition_of(ds)
    except Exception:  # noqa: BLE001 - one unreadable definition must not break a page
        return None


def field_labels(definition: DatasetDefinition | None) -> dict[str, str]:
    """Field name → label in the request's language (the name when undescribed)."""
    if definition is None:
        return {}
    return {
        f.name: (text_of(f.description) if f.description else f.name)
        for f in definition.response.fields
    }


def procedure_names(conn: Connection) -> dict[str, str]:
    """Procedure code → name in the request's language."""
    lang = current_language()
    return {
        p["code"]: str(p.get("name_en") if lang == "en" and p.get("name_en") else p["name_vi"])
        for p in service.list_procedures(conn)
    }


def clean(value: str | None, limit: int = MAX_FILTER) -> str:
    """A form value stripped and cut to ``limit`` characters (NUL removed)."""
    return (value or "").replace("\x00", "").strip()[:limit]


def words(values: Iterable[str]) -> list[str]:
    """Non-empty stripped values, duplicates removed, order kept."""
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def init_app(app: Flask) -> None:
    """Template filters of the governance pages."""
    app.add_template_filter(local_time, "vn_time")
    app.add_template_filter(local_date, "vn_date")
    app.add_template_filter(text_of, "text")

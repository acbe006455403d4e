"""The hub's browser sign-in session: cookie ``lgsp_sid`` holding a random 256-bit token.

Only the SHA-256 of the token is stored (``login_sessions.id``), so a copy of the table
cannot be replayed as cookies. One session serves every agency app (SSO).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

from hub.config import Settings
from hub.db import Connection, execute, fetch_all, fetch_one
from identity.accounts import store as account_store
from identity.accounts.models import Account

COOKIE_NAME = "lgsp_sid"
# last_seen_at is written at most this often, to keep reads cheap.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Login:
    """Who is signed in to this browser, when, and how strongly."""

    session_id: str
    account_id: str
    auth_time: datetime
    acr: int
    amr: tuple[str, ...]


@dataclass(frozen=True)
class SessionInfo:
    """One active sign-in, as listed on the account page."""

    session_id: str
    created_at: datetime
    last_seen_at: datetime
    auth_time: datetime
    acr: int
    amr: tuple[str, ...]
    ip: str | None
    user_agent: str | None


def _system_clock() -> datetime:
    return datetime.now(UTC)


def utcnow() -> datetime:
    """The current time; tests replace the clock with ``app.extensions["lgsp.clock"]``."""
    clock: Callable[[], datetime] = current_app.extensions.get("lgsp.clock", _system_clock)
    return clock()


def _settings() -> Settings:
    settings: Settings = current_app.extensions["lgsp.settings"]
    return settings


def hash_token(token: str) -> str:
    """The stored id of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _row_to_login(row: dict[str, Any]) -> Login:
    return Login(
        session_id=row["id"],
        account_id=str(row["account_id"]),
        auth_time=row["auth_time"],
        acr=int(row["acr"]),
        amr=tuple(row["amr"] or ()),
    )


_ACCOUNT_PREFIX = "acct_"
# Built from constant column names only.
_SESSION_WITH_ACCOUNT = (
    "SELECT s.id, s.account_id, s.auth_time, s.acr, s.amr, s.last_seen_at, "  # noqa: S608
    + ", ".join(f"a.{c} AS {_ACCOUNT_PREFIX}{c}" for c in account_store.COLUMN_NAMES)
    + " FROM login_sessions s JOIN accounts a ON a.id = s.account_id"
    " WHERE s.id = %(id)s AND s.ended_at IS NULL AND s.created_at > %(oldest)s"
)


def current_login(conn: Connection) -> Login | None:
    """The sign-in of the current request's cookie, or None (ended, expired, or no cookie)."""
    if "lgsp_login" in g:
        cached: Login | None = g.lgsp_login
        return cached
    login, account = None, None
    token = request.cookies.get(COOKIE_NAME, "")
    if 20 <= len(token) <= 100:
        now = utcnow()
        # The account comes in the same round trip: nearly every caller needs it next.
        row = fetch_one(
            conn,
            _SESSION_WITH_ACCOUNT,
            {"id": hash_token(token), "oldest": now - timedelta(seconds=_settings().session_ttl)},
        )
        if row is not None:
            login = _row_to_login(row)
            account = Account.from_row(
                {
                    k.removeprefix(_ACCOUNT_PREFIX): v
                    for k, v in row.items()
                    if k.startswith(_ACCOUNT_PREFIX)
                }
            )
            if now - row["last_seen_at"] > _TOUCH_EVERY:
                execute(
                    conn,
                    "UPDATE login_sessions SET last_seen_at = %(now)s WHERE id = %(id)s",
                    {"now": now, "id": row["id"]},
                )
    g.lgsp_login = login
    g.lgsp_login_account = account
    return login


def current_account(conn: Connection) -> Account | None:
    """The account of ``current_login`` (read with it), or None when nobody is signed in."""
    login = current_login(conn)
    if login is None:
        return None
    account: Account | None = g.get("lgsp_login_account")
    if account is None or account.id != login.account_id:  # a sign-in during this request
        account = account_store.get(conn, login.account_id)
        g.lgsp_login_account = account
    return account


def begin_session(
    conn: Connection,
    *,
    account_id: str,
    acr: int,
    amr: tuple[str, ...],
    now: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
) -> tuple[Login, str]:
    """Store a new sign-in and return it with the cookie token to set (see ``set_cookie``)."""
    token = secrets.token_urlsafe(32)
    session_id = hash_token(token)
    execute(
        conn,
        "INSERT INTO login_sessions (id, account_id, created_at, last_seen_at, auth_time, acr,"
        " amr, ip, user_agent) VALUES (%(id)s, %(a)s, %(now)s, %(now)s, %(now)s, %(acr)s,"
        " %(amr)s, %(ip)s, %(ua)s)",
        {
            "id": session_id,
            "a": account_id,
            "now": now,
            "acr": acr,
            "amr": list(amr),
            "ip": ip,
            "ua": (user_agent or "")[:300] or None,
        },
    )
    login = Login(session_id=session_id, account_id=account_id, auth_time=now, acr=acr, amr=amr)
    g.lgsp_login = login
    return login, token


def step_up(
    conn: Connection, session_id: str, *, acr: int, amr: tuple[str, ...], now: datetime
) -> Login | None:
    """Raise an active session's level after a second factor; auth_time becomes ``now``."""
    row = fetch_one(
        conn,
        "UPDATE login_sessions SET acr = %(acr)s, amr = %(amr)s, auth_time = %(now)s,"
        " last_seen_at = %(now)s WHERE id = %(id)s AND ended_at IS NULL"
        " RETURNING id, account_id, auth_time, acr, amr",
        {"acr": acr, "amr": list(amr), "now": now, "id": session_id},
    )
    login = _row_to_login(row) if row else None
    g.lgsp_login = login
    return login


SessionEndHook = Callable[[Connection, list[str]], None]


def on_session_end(app: Flask, hook: SessionEndHook) -> None:
    """Have ``hook(conn, session_ids)`` run, in the same transaction, whenever sign-ins end
    (sign-out, "sign out everywhere", a password change ending the other sessions)."""
    app.extensions.setdefault("lgsp.session_end_hooks", []).append(hook)


def _end(conn: Connection, where: str, params: dict[str, Any]) -> list[str]:
    g.pop("lgsp_login", None)
    rows = fetch_all(
        conn,
        f"UPDATE login_sessions SET ended_at = now() WHERE ({where})"  # noqa: S608
        " AND ended_at IS NULL RETURNING id",
        params,
    )
    ended = [str(row["id"]) for row in rows]
    if ended:
        for hook in current_app.extensions.get("lgsp.session_end_hooks", ()):
            hook(conn, ended)
    return ended


def end_session(conn: Connection, session_id: str) -> bool:
    """End one sign-in; True when it was active."""
    return bool(_end(conn, "id = %(id)s", {"id": session_id}))


def end_account_session(conn: Connection, account_id: str, session_id: str) -> bool:
    """End one of the account's own sign-ins; True when it was active."""
    return bool(
        _end(conn, "id = %(id)s AND account_id = %(a)s", {"id": session_id, "a": account_id})
    )


def end_all_sessions(conn: Connection, account_id: str, *, except_id: str | None = None) -> int:
    """End every active sign-in of the account (but ``except_id``); return how many."""
    ended = _end(
        conn,
        "account_id = %(a)s AND id IS DISTINCT FROM %(keep)s",
        {"a": account_id, "keep": except_id},
    )
    return len(ended)


def list_sessions(conn: Connection, account_id: str, *, now: datetime) -> list[SessionInfo]:
    """The account's active sign-ins, most recent first."""
    rows = fetch_all(
        conn,
        "SELECT id, created_at, last_seen_at, auth_time, acr, amr, ip, user_agent"
        " FROM login_sessions WHERE account_id = %(a)s AND ended_at IS NULL"
        " AND created_at > %(oldest)s ORDER BY last_seen_at DESC",
        {"a": account_id, "oldest": now - timedelta(seconds=_settings().session_ttl)},
    )
    return [
        SessionInfo(
            session_id=r["id"],
            created_at=r["created_at"],
            last_seen_at=r["last_seen_at"],
            auth_time=r["auth_time"],
            acr=int(r["acr"]),
            amr=tuple(r["amr"] or ()),
            ip=r["ip"],
            user_agent=r["user_agent"],
        )
        for r in rows
    ]


def set_cookie(response: Response, token: str) -> Response:
    """Put the session token on the response (HttpOnly, SameSite=Lax, Secure over https)."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=_settings().session_ttl,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=_settings().secure_cookies,
    )
    return response


def clear_cookie(response: Response) -> Response:
    """Remove the session cookie from the browser."""
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="Lax", secure=_settings().secure_cookies
    )
    return response

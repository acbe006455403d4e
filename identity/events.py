"""Security events (sign-ins, failures, MFA, consent, tokens, logout) kept in the database."""

from __future__ import annotations

from typing import Any

from hub.db import Connection, execute, json_param


def record(
    conn: Connection,
    kind: str,
    *,
    account_id: str | None = None,
    client_id: str | None = None,
    session_id: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one security event (e.g. ``login.success``, ``token.issued``)."""
    execute(
        conn,
        "INSERT INTO auth_events (kind, account_id, client_id, session_id, ip, detail)"
        " VALUES (%(kind)s, %(account_id)s, %(client_id)s, %(session_id)s, %(ip)s, %(detail)s)",
        {
            "kind": kind,
            "account_id": account_id,
            "client_id": client_id,
            "session_id": session_id,
            "ip": ip,
            "detail": json_param(detail or {}),
        },
    )

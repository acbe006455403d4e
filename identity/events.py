"""Security events (sign-ins, failures, MFA, consent, tokens, logout) kept in the database."""

from __future__ import annotations

from typing import Any

from hub.db import Connection, execute, json_param

_INSERT = (
    "INSERT INTO auth_events (kind, account_id, client_id, session_id, ip, detail)"
    " VALUES (%(kind)s, %(account_id)s, %(client_id)s, %(session_id)s, %(ip)s, %(detail)s)"
)
# Sent with the INSERT in one round trip; it holds for the surrounding transaction, or for
# the statement alone on an autocommit connection (an implicit transaction block).
_NO_FLUSH_WAIT = "SET LOCAL synchronous_commit TO OFF; "


def record(
    conn: Connection,
    kind: str,
    *,
    account_id: str | None = None,
    client_id: str | None = None,
    session_id: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    durable: bool = True,
) -> None:
    """Append one security event (e.g. ``login.success``, ``token.issued``).

    ``durable=False`` lets the commit return before the WAL reaches the disk: a crash may
    lose the last fraction of a second of such events, never leave one half-written.
    """
    execute(
        conn,
        _INSERT if durable else _NO_FLUSH_WAIT + _INSERT,
        {
            "kind": kind,
            "account_id": account_id,
            "client_id": client_id,
            "session_id": session_id,
            "ip": ip,
            "detail": json_param(detail or {}),
        },
    )

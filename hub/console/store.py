"""SQL the console needs that no domain store offers yet: plain parameterised reads."""

from __future__ import annotations

from typing import Any

from hub.db import Connection, fetch_all


def list_dataset_versions(conn: Connection, dataset_id: str) -> list[dict[str, Any]]:
    """Every stored version of a dataset, newest first (without the definition)."""
    return fetch_all(
        conn,
        "SELECT version, checksum, loaded_at, loaded_by,"
        " definition->>'version' AS definition_version"
        " FROM dataset_versions WHERE dataset_id = %(id)s ORDER BY version DESC",
        {"id": dataset_id},
    )


def list_client_developers(conn: Connection) -> dict[str, list[str]]:
    """client id → full names of the accounts that develop it."""
    rows = fetch_all(
        conn,
        "SELECT d.client_id, a.full_name FROM client_developers d"
        " JOIN accounts a ON a.id = d.account_id ORDER BY d.client_id, a.full_name",
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["client_id"], []).append(row["full_name"])
    return out


def list_staff_agencies(conn: Connection) -> dict[str, list[str]]:
    """account id → "role:agency" entries of the accounts that act for an agency."""
    rows = fetch_all(
        conn, "SELECT account_id, role, agency_code FROM account_agencies ORDER BY 1, 2, 3"
    )
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(str(row["account_id"]), []).append(f"{row['role']}:{row['agency_code']}")
    return out

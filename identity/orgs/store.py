"""SQL for organizations and their members; never commits."""

from __future__ import annotations

from datetime import datetime

from hub.db import Connection, fetch_all, fetch_one, register_constraint
from hub.errors import NotFoundError
from identity.orgs.models import Membership, Organization

register_constraint(
    "organizations_tax_code_key", "An organization with this tax code already exists."
)
register_constraint(
    "organization_members_key", "This person is already a member of the organization."
)
register_constraint(
    "organization_members_role_check", "The role must be 'representative' or 'staff'."
)

_COLUMNS = "id, tax_code, name_vi, name_en, address, created_at"


def get_by_tax_code(conn: Connection, tax_code: str) -> Organization:
    """The organization with this tax code, or NotFoundError."""
    row = find_by_tax_code(conn, tax_code)
    if row is None:
        raise NotFoundError(f"No organization has the tax code {tax_code}.")
    return row


def find_by_tax_code(conn: Connection, tax_code: str) -> Organization | None:
    """The organization with this tax code, or None."""
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM organizations WHERE tax_code = %(t)s",  # noqa: S608
        {"t": tax_code},
    )
    return Organization.from_row(row) if row else None


def list_organizations(conn: Connection) -> list[Organization]:
    """Every organization, by tax code."""
    rows = fetch_all(conn, f"SELECT {_COLUMNS} FROM organizations ORDER BY tax_code")  # noqa: S608
    return [Organization.from_row(r) for r in rows]


def insert(
    conn: Connection, *, tax_code: str, name_vi: str, name_en: str | None, address: str | None
) -> Organization:
    """Insert an organization and return it."""
    row = fetch_one(
        conn,
        "INSERT INTO organizations (tax_code, name_vi, name_en, address)"
        " VALUES (%(t)s, %(vi)s, %(en)s, %(addr)s)"
        " RETURNING id, tax_code, name_vi, name_en, address, created_at",
        {"t": tax_code, "vi": name_vi, "en": name_en, "addr": address},
    )
    assert row is not None
    return Organization.from_row(row)


def insert_member(
    conn: Connection,
    *,
    organization_id: str,
    account_id: str,
    role: str,
    authorised_by: str | None,
    expires_at: datetime | None,
) -> None:
    """Add a member to an organization."""
    fetch_one(
        conn,
        "INSERT INTO organization_members"
        " (organization_id, account_id, role, authorised_by, expires_at)"
        " VALUES (%(o)s, %(a)s, %(r)s, %(by)s, %(exp)s) RETURNING account_id",
        {"o": organization_id, "a": account_id, "r": role, "by": authorised_by, "exp": expires_at},
    )


def list_active_memberships(conn: Connection, account_id: str, now: datetime) -> list[Membership]:
    """The account's memberships that have not expired at ``now``."""
    rows = fetch_all(
        conn,
        "SELECT o.id AS organization_id, o.tax_code, o.name_vi AS name, m.role, m.expires_at"
        " FROM organization_members m JOIN organizations o ON o.id = m.organization_id"
        " WHERE m.account_id = %(a)s AND (m.expires_at IS NULL OR m.expires_at > %(now)s)"
        " ORDER BY o.name_vi, o.tax_code",
        {"a": account_id, "now": now},
    )
    return [
        Membership(
            organization_id=str(r["organization_id"]),
            tax_code=r["tax_code"],
            name=r["name"],
            role=r["role"],
            expires_at=r["expires_at"],
        )
        for r in rows
    ]


def list_members(conn: Connection, organization_id: str) -> list[dict[str, object]]:
    """Members of an organization with their PIN and name."""
    return fetch_all(
        conn,
        "SELECT a.id AS account_id, a.pin, a.full_name, m.role, m.expires_at, m.created_at"
        " FROM organization_members m JOIN accounts a ON a.id = m.account_id"
        " WHERE m.organization_id = %(o)s ORDER BY m.role, a.full_name",
        {"o": organization_id},
    )


def authorise_staff(
    conn: Connection,
    *,
    organization_id: str,
    account_id: str,
    authorised_by: str,
    expires_at: datetime,
) -> bool:
    """Add a staff member, or renew one (new expiry, new authoriser); False, with nothing
    changed, when the person is a representative of the organization."""
    row = fetch_one(
        conn,
        "INSERT INTO organization_members"
        " (organization_id, account_id, role, authorised_by, expires_at)"
        " VALUES (%(o)s, %(a)s, 'staff', %(by)s, %(exp)s)"
        " ON CONFLICT (organization_id, account_id) DO UPDATE"
        " SET authorised_by = EXCLUDED.authorised_by, expires_at = EXCLUDED.expires_at"
        " WHERE organization_members.role = 'staff' RETURNING account_id",
        {"o": organization_id, "a": account_id, "by": authorised_by, "exp": expires_at},
    )
    return row is not None


def end_staff(conn: Connection, organization_id: str, account_id: str, now: datetime) -> bool:
    """End a staff member's authorisation now (the row stays, as history)."""
    row = fetch_one(
        conn,
        "UPDATE organization_members SET expires_at = %(now)s"
        " WHERE organization_id = %(o)s AND account_id = %(a)s AND role = 'staff'"
        " AND (expires_at IS NULL OR expires_at > %(now)s) RETURNING account_id",
        {"o": organization_id, "a": account_id, "now": now},
    )
    return row is not None

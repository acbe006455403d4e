"""SQL for accounts and recovery codes; never commits."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from hub.db import Connection, execute, fetch_all, fetch_one, register_constraint
from hub.errors import NotFoundError
from identity.accounts.models import Account

register_constraint(
    "accounts_pin_key", "An account with this personal identification number already exists."
)
register_constraint("accounts_full_name_check", "The full name must have 1 to 200 characters.")
register_constraint("accounts_sex_check", "Sex must be 'male' or 'female'.")
register_constraint("accounts_level_check", "The assurance level must be 1 or 2.")
register_constraint("accounts_pin_check", "The personal identification number must be 12 digits.")
register_constraint("accounts_roles_check", "Unknown role.")

COLUMN_NAMES = (
    "id",
    "pin",
    "full_name",
    "birth_date",
    "sex",
    "email",
    "phone",
    "level",
    "totp_enabled_at",
    "roles",
    "created_at",
)
_COLUMNS = ", ".join(COLUMN_NAMES)


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def get(conn: Connection, account_id: str) -> Account:
    """The account with this id, or NotFoundError."""
    key = _uuid_or_none(account_id)
    row = (
        fetch_one(conn, f"SELECT {_COLUMNS} FROM accounts WHERE id = %(id)s", {"id": key})  # noqa: S608
        if key
        else None
    )
    if row is None:
        raise NotFoundError("No such account.")
    return Account.from_row(row)


def find_by_pin(conn: Connection, pin: str) -> Account | None:
    """The account with this PIN, or None."""
    if not (isinstance(pin, str) and len(pin) == 12 and pin.isascii() and pin.isdigit()):
        return None
    row = fetch_one(conn, f"SELECT {_COLUMNS} FROM accounts WHERE pin = %(pin)s", {"pin": pin})  # noqa: S608
    return Account.from_row(row) if row else None


def find_for_sign_in(conn: Connection, pin: str) -> tuple[Account, str | None] | None:
    """The account with this PIN and its password hash, in one round trip; or None."""
    if not (isinstance(pin, str) and len(pin) == 12 and pin.isascii() and pin.isdigit()):
        return None
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS}, password_hash FROM accounts WHERE pin = %(pin)s",  # noqa: S608
        {"pin": pin},
    )
    return (Account.from_row(row), row["password_hash"]) if row else None


def list_accounts(conn: Connection, *, limit: int = 1000) -> list[Account]:
    """Accounts, oldest first."""
    rows = fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM accounts ORDER BY created_at, pin LIMIT %(limit)s",  # noqa: S608
        {"limit": limit},
    )
    return [Account.from_row(r) for r in rows]


def insert(
    conn: Connection,
    *,
    pin: str,
    full_name: str,
    birth_date: date | None,
    sex: str | None,
    email: str | None,
    phone: str | None,
    password_hash: str | None,
    level: int,
    roles: tuple[str, ...] = (),
) -> Account:
    """Insert an account and return it."""
    row = fetch_one(
        conn,
        "INSERT INTO accounts (pin, full_name, birth_date, sex, email, phone, password_hash,"
        " level, roles) VALUES (%(pin)s, %(full_name)s, %(birth_date)s, %(sex)s, %(email)s,"
        " %(phone)s, %(password_hash)s, %(level)s, %(roles)s) RETURNING id, pin, full_name,"
        " birth_date, sex, email, phone, level, totp_enabled_at, roles, created_at",
        {
            "pin": pin,
            "full_name": full_name,
            "birth_date": birth_date,
            "sex": sex,
            "email": email,
            "phone": phone,
            "password_hash": password_hash,
            "level": level,
            "roles": list(roles),
        },
    )
    assert row is not None
    return Account.from_row(row)


def get_secrets(conn: Connection, account_id: str) -> dict[str, Any]:
    """The password hash and TOTP state of an account (for the service layer only)."""
    row = fetch_one(
        conn,
        "SELECT password_hash, totp_secret, totp_enabled_at FROM accounts WHERE id = %(id)s",
        {"id": account_id},
    )
    if row is None:
        raise NotFoundError("No such account.")
    return row


def update_password_hash(conn: Connection, account_id: str, password_hash: str) -> None:
    """Store a new password hash."""
    execute(
        conn,
        "UPDATE accounts SET password_hash = %(h)s, updated_at = now() WHERE id = %(id)s",
        {"h": password_hash, "id": account_id},
    )


def update_totp(conn: Connection, account_id: str, *, secret: str | None, enabled: bool) -> None:
    """Set (or clear) the TOTP secret and whether it is enabled."""
    execute(
        conn,
        "UPDATE accounts SET totp_secret = %(s)s,"
        " totp_enabled_at = CASE WHEN %(on)s THEN now() ELSE NULL END,"
        " updated_at = now() WHERE id = %(id)s",
        {"s": secret, "on": enabled, "id": account_id},
    )


def update_level(conn: Connection, account_id: str, level: int) -> None:
    """Change the assurance level."""
    execute(
        conn,
        "UPDATE accounts SET level = %(level)s, updated_at = now() WHERE id = %(id)s",
        {"level": level, "id": account_id},
    )


def update_roles(conn: Connection, account_id: str, roles: tuple[str, ...]) -> None:
    """Replace the account's roles."""
    execute(
        conn,
        "UPDATE accounts SET roles = %(roles)s, updated_at = now() WHERE id = %(id)s",
        {"roles": list(roles), "id": account_id},
    )


def replace_recovery_codes(conn: Connection, account_id: str, code_hashes: list[str]) -> None:
    """Drop the account's recovery codes and store new (hashed) ones."""
    execute(conn, "DELETE FROM recovery_codes WHERE account_id = %(id)s", {"id": account_id})
    for code_hash in code_hashes:
        execute(
            conn,
            "INSERT INTO recovery_codes (account_id, code_hash) VALUES (%(id)s, %(h)s)",
            {"id": account_id, "h": code_hash},
        )


def use_recovery_code(conn: Connection, account_id: str, code_hash: str) -> bool:
    """Mark an unused recovery code used; True when one was."""
    return (
        execute(
            conn,
            "UPDATE recovery_codes SET used_at = now() WHERE account_id = %(id)s"
            " AND code_hash = %(h)s AND used_at IS NULL",
            {"id": account_id, "h": code_hash},
        )
        == 1
    )


def count_unused_recovery_codes(conn: Connection, account_id: str) -> int:
    """How many recovery codes are left."""
    row = fetch_one(
        conn,
        "SELECT count(*) AS n FROM recovery_codes WHERE account_id = %(id)s AND used_at IS NULL",
        {"id": account_id},
    )
    return int(row["n"]) if row else 0

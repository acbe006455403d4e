"""Rules for citizen accounts: creation, password checks and changes."""

from __future__ import annotations

from datetime import date

from hub.db import Connection
from hub.errors import ValidationError
from identity import passwords, validation
from identity.accounts import store
from identity.accounts.models import ROLES, Account


class WrongPasswordError(ValidationError):
    """The current password is not correct."""

    code = "wrong_password"
    title = "Wrong password"


def create_citizen(
    conn: Connection,
    *,
    pin: str,
    full_name: str,
    birth_date: date | None,
    sex: str | None,
    password: str,
    email: str | None = None,
    phone: str | None = None,
    level: int = 1,
    roles: tuple[str, ...] = (),
) -> Account:
    """Validate and create a citizen account (name NFC-normalised, password hashed)."""
    sex = validation.validate_sex(sex)
    pin = validation.validate_pin(pin, birth_date=birth_date, sex=sex)
    full_name = validation.validate_name(full_name)
    email = validation.validate_email(email)
    phone = validation.validate_phone(phone)
    level = validation.validate_level(level)
    password = validation.validate_password(password)
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValidationError(f"Unknown role(s): {', '.join(sorted(unknown))}.", field="roles")
    return store.insert(
        conn,
        pin=pin,
        full_name=full_name,
        birth_date=birth_date,
        sex=sex,
        email=email,
        phone=phone,
        password_hash=passwords.hash_password(password),
        level=level,
        roles=tuple(roles),
    )


def verify_password(conn: Connection, *, pin: str, password: str) -> Account | None:
    """The account when PIN and password match, else None (same cost whether the PIN exists).

    A matching hash made with outdated parameters is replaced by a fresh one.
    """
    if not isinstance(password, str) or len(password) > validation.MAX_PASSWORD:
        passwords.dummy_verify("")
        return None
    found = store.find_for_sign_in(conn, pin)
    if found is None:
        passwords.dummy_verify(password)
        return None
    account, password_hash = found
    if not passwords.verify(password_hash, password):
        return None
    if password_hash and passwords.needs_rehash(password_hash):
        store.update_password_hash(conn, account.id, passwords.hash_password(password))
    return account


def check_password(conn: Connection, *, account_id: str, password: str) -> bool:
    """True when ``password`` is the account's current password."""
    if not isinstance(password, str) or len(password) > validation.MAX_PASSWORD:
        return False
    return passwords.verify(store.get_secrets(conn, account_id)["password_hash"], password)


def change_password(
    conn: Connection, *, account_id: str, current_password: str, new_password: str
) -> None:
    """Replace the password after checking the current one (WrongPasswordError otherwise)."""
    if not check_password(conn, account_id=account_id, password=current_password):
        raise WrongPasswordError(field="current_password")
    new_password = validation.validate_password(new_password)
    if new_password == current_password:
        raise ValidationError(
            "The new password must differ from the current one.", field="new_password"
        )
    store.update_password_hash(conn, account_id, passwords.hash_password(new_password))


def set_password(conn: Connection, *, account_id: str, password: str) -> None:
    """Set a new password without checking the old one (operators, demo seeding)."""
    password = validation.validate_password(password)
    store.update_password_hash(conn, account_id, passwords.hash_password(password))

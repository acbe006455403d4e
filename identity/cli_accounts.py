"""``lgsp accounts`` and ``lgsp orgs``."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import click

from hub.cliutil import emit_json, pass_db, record_admin_action
from hub.db import Database
from hub.errors import NotFoundError, ValidationError
from identity import mfa
from identity.accounts import service as account_service
from identity.accounts import store as account_store
from identity.accounts.models import Account
from identity.orgs import service as org_service


def _date(value: str, label: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{label} must be a date as YYYY-MM-DD, got {value!r}.") from None


def _account_json(account: Account) -> dict[str, object]:
    return {
        "id": account.id,
        "pin": account.pin,
        "full_name": account.full_name,
        "birth_date": account.birth_date.isoformat() if account.birth_date else None,
        "sex": account.sex,
        "email": account.email,
        "phone": account.phone,
        "level": account.level,
        "mfa_enabled": account.mfa_enabled,
        "roles": list(account.roles),
    }


@click.group()
def accounts() -> None:
    """Citizen accounts."""


@accounts.command("create-citizen")
@click.option("--pin", required=True, help="12-digit personal identification number.")
@click.option("--name", "full_name", required=True, help="Full name, with diacritics.")
@click.option("--birth-date", required=True, help="YYYY-MM-DD.")
@click.option("--sex", type=click.Choice(["male", "female"]), required=True)
@click.option("--password", help="The password (prompted for when omitted).")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--email")
@click.option("--phone")
@click.option("--level", type=click.IntRange(1, 2), default=1, show_default=True)
@click.option("--role", "roles", multiple=True, help="admin, data_owner, auditor or developer.")
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
@pass_db
def create_citizen(
    database: Database,
    pin: str,
    full_name: str,
    birth_date: str,
    sex: str,
    password: str | None,
    password_stdin: bool,
    email: str | None,
    phone: str | None,
    level: int,
    roles: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create a citizen account."""
    born = _date(birth_date, "--birth-date")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    assert password is not None
    with database.transaction() as conn:
        account = account_service.create_citizen(
            conn,
            pin=pin,
            full_name=full_name,
            birth_date=born,
            sex=sex,
            password=password,
            email=email,
            phone=phone,
            level=level,
            roles=roles,
        )
        record_admin_action(
            conn, "account.create", subject=pin, account_id=account.id, level=level, roles=roles
        )
    if as_json:
        emit_json(_account_json(account))
    else:
        click.echo(f"created account {account.id} for {account.full_name} (level {account.level})")


@accounts.command("enable-totp")
@click.option("--pin", required=True)
@click.option("--secret", help="Use this base32 secret (demo and tests); a new one otherwise.")
@click.option("--json", "as_json", is_flag=True)
@pass_db
def enable_totp(database: Database, pin: str, secret: str | None, as_json: bool) -> None:
    """Turn on TOTP for an account and print its secret and otpauth URI (demo, testing)."""
    with database.transaction() as conn:
        account = account_store.find_by_pin(conn, pin)
        if account is None:
            raise NotFoundError(f"No account has the personal identification number {pin}.")
        secret = mfa.enable_totp(conn, account_id=account.id, secret=secret)
        record_admin_action(conn, "account.totp_enabled", subject=pin, account_id=account.id)
    uri = mfa.provisioning_uri(secret, account)
    if as_json:
        emit_json({"pin": pin, "secret": secret, "otpauth_uri": uri})
    else:
        click.echo(f"secret: {secret}")
        click.echo(f"otpauth URI: {uri}")


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_db
def list_accounts(database: Database, as_json: bool) -> None:
    """List accounts."""
    with database.transaction() as conn:
        items = account_store.list_accounts(conn)
    if as_json:
        emit_json([_account_json(a) for a in items])
        return
    for a in items:
        mfa_state = "mfa" if a.mfa_enabled else "-"
        roles = ",".join(a.roles) or "-"
        click.echo(f"{a.pin}  level {a.level}  {mfa_state:3}  {roles:12}  {a.full_name}")


@click.group()
def orgs() -> None:
    """Organizations and their members."""


@orgs.command("create")
@click.option("--tax-code", required=True, help="10 digits, or 10-3 for a branch.")
@click.option("--name", "name_vi", required=True, help="Vietnamese name.")
@click.option("--name-en", help="Foreign-language name.")
@click.option("--address")
@click.option("--representative", help="PIN of the legal representative (an existing account).")
@click.option("--json", "as_json", is_flag=True)
@pass_db
def create_org(
    database: Database,
    tax_code: str,
    name_vi: str,
    name_en: str | None,
    address: str | None,
    representative: str | None,
    as_json: bool,
) -> None:
    """Create an organization."""
    with database.transaction() as conn:
        org = org_service.create_organization(
            conn,
            tax_code=tax_code,
            name_vi=name_vi,
            name_en=name_en,
            address=address,
            representative_pin=representative,
        )
        record_admin_action(conn, "org.create", subject=org.tax_code, tax_code=org.tax_code)
    if as_json:
        emit_json(
            {
                "id": org.id,
                "tax_code": org.tax_code,
                "name_vi": org.name_vi,
                "name_en": org.name_en,
                "address": org.address,
                "representative": representative,
            }
        )
    else:
        click.echo(f"created organization {org.tax_code} {org.name_vi}")


@orgs.command("add-member")
@click.option("--tax-code", required=True)
@click.option("--pin", required=True, help="PIN of the member (an existing account).")
@click.option("--role", type=click.Choice(["staff", "representative"]), default="staff")
@click.option("--expires", help="Last day of the authorisation, YYYY-MM-DD.")
@click.option("--authorised-by", help="PIN of the representative who authorises the member.")
@click.option("--json", "as_json", is_flag=True)
@pass_db
def add_member(
    database: Database,
    tax_code: str,
    pin: str,
    role: str,
    expires: str | None,
    authorised_by: str | None,
    as_json: bool,
) -> None:
    """Let a citizen act for an organization."""
    if role == "staff" and not authorised_by:
        raise click.UsageError(
            "a staff member needs --authorised-by PIN (the representative who authorises them)"
        )
    expires_at = None
    if expires:
        day = _date(expires, "--expires")
        # The authorisation holds through the given day (end of day, UTC+7).
        expires_at = datetime(day.year, day.month, day.day, 17, 0, tzinfo=UTC)
    with database.transaction() as conn:
        by = None
        if authorised_by:
            rep = account_store.find_by_pin(conn, authorised_by)
            if rep is None:
                raise NotFoundError(
                    f"No account has the personal identification number {authorised_by}."
                )
            by = rep.id
        membership = org_service.add_member(
            conn, tax_code=tax_code, pin=pin, role=role, authorised_by=by, expires_at=expires_at
        )
        record_admin_action(
            conn,
            "org.member_added",
            subject=membership.tax_code,
            tax_code=membership.tax_code,
            role=membership.role,
            expires_at=membership.expires_at.isoformat() if membership.expires_at else None,
        )
    if as_json:
        emit_json(
            {
                "tax_code": membership.tax_code,
                "pin": pin,
                "role": membership.role,
                "expires_at": membership.expires_at.isoformat() if membership.expires_at else None,
            }
        )
    else:
        click.echo(f"{pin} is now {membership.role} of {membership.tax_code} {membership.name}")

"""Rules for organizations: tax-code validation, representatives and authorised staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.db import Connection
from hub.errors import NotFoundError, PermissionDeniedError, ValidationError
from identity import validation
from identity.accounts import store as account_store
from identity.orgs import store
from identity.orgs.models import MEMBER_ROLES, Membership, Organization

MAX_STAFF_TERM = timedelta(days=5 * 366)


def create_organization(
    conn: Connection,
    *,
    tax_code: str,
    name_vi: str,
    name_en: str | None = None,
    address: str | None = None,
    representative_pin: str | None = None,
) -> Organization:
    """Create an organization; with ``representative_pin``, make that citizen its representative."""
    tax_code = validation.validate_tax_code(tax_code)
    name = validation.clean_text(
        name_vi,
        field="name_vi",
        label="The Vietnamese name",
        max_length=validation.MAX_ORG_NAME,
        required=True,
    )
    assert name is not None
    org = store.insert(
        conn,
        tax_code=tax_code,
        name_vi=name,
        name_en=validation.clean_text(
            name_en, field="name_en", label="The foreign name", max_length=validation.MAX_ORG_NAME
        ),
        address=validation.clean_text(
            address, field="address", label="The address", max_length=validation.MAX_ADDRESS
        ),
    )
    if representative_pin is not None:
        add_member(conn, tax_code=tax_code, pin=representative_pin, role="representative")
    return org


def add_member(
    conn: Connection,
    *,
    tax_code: str,
    pin: str,
    role: str,
    authorised_by: str | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> Membership:
    """Let the citizen with ``pin`` act for the organization, as representative or staff.

    ``authorised_by`` is the account id of the representative who authorised a staff member.
    """
    if role not in MEMBER_ROLES:
        raise ValidationError("The role must be 'representative' or 'staff'.", field="role")
    now = now or datetime.now(UTC)
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at <= now:
            raise ValidationError("The expiry must be in the future.", field="expires_at")
    validation.parse_pin(pin)
    org = store.get_by_tax_code(conn, validation.validate_tax_code(tax_code))
    account = account_store.find_by_pin(conn, pin)
    if account is None:
        raise NotFoundError(f"No account has the personal identification number {pin}.")
    if authorised_by is not None:
        reps = {
            m.organization_id
            for m in store.list_active_memberships(conn, authorised_by, now)
            if m.role == "representative"
        }
        if org.id not in reps:
            raise ValidationError(
                "Only a representative of the organization can authorise members.",
                field="authorised_by",
            )
    store.insert_member(
        conn,
        organization_id=org.id,
        account_id=account.id,
        role=role,
        authorised_by=authorised_by,
        expires_at=expires_at,
    )
    return Membership(
        organization_id=org.id,
        tax_code=org.tax_code,
        name=org.name_vi,
        role=role,
        expires_at=expires_at,
    )


def list_memberships(
    conn: Connection, account_id: str, *, now: datetime | None = None
) -> list[Membership]:
    """The organizations the account may act for now (expired memberships left out)."""
    return store.list_active_memberships(conn, account_id, now or datetime.now(UTC))


def represented(conn: Connection, account_id: str, tax_code: str, now: datetime) -> Organization:
    """The organization ``account_id`` is an active representative of (else 403)."""
    org = store.find_by_tax_code(conn, tax_code[:20])
    if org is None or not any(
        m.organization_id == org.id and m.role == "representative"
        for m in store.list_active_memberships(conn, account_id, now)
    ):
        raise PermissionDeniedError("Only a representative of the organization manages its staff.")
    return org


def authorise_staff(
    conn: Connection,
    *,
    representative_id: str,
    tax_code: str,
    pin: str,
    expires_at: datetime,
    now: datetime,
) -> Organization:
    """A representative lets a citizen act for the organization as staff until a time (or
    renews that authorisation)."""
    org = represented(conn, representative_id, tax_code, now)
    if expires_at <= now:
        raise ValidationError("The expiry must be in the future.", field="expires_at")
    if expires_at > now + MAX_STAFF_TERM:
        raise ValidationError("A staff authorisation lasts at most 5 years.", field="expires_at")
    validation.parse_pin(pin)
    account = account_store.find_by_pin(conn, pin)
    if account is None:
        raise NotFoundError(f"No account has the personal identification number {pin}.")
    if not store.authorise_staff(
        conn,
        organization_id=org.id,
        account_id=account.id,
        authorised_by=representative_id,
        expires_at=expires_at,
    ):
        raise ValidationError(
            "This person is a representative of the organization.", field="member"
        )
    return org


def end_staff(
    conn: Connection, *, representative_id: str, tax_code: str, account_id: str, now: datetime
) -> bool:
    """A representative ends a staff member's authorisation at once; True when it was active."""
    org = represented(conn, representative_id, tax_code, now)
    return store.end_staff(conn, org.id, account_id, now)


def members(conn: Connection, org: Organization) -> list[dict[str, object]]:
    """The organization's members, ended authorisations included."""
    return store.list_members(conn, org.id)

"""Demo people and an organization for ``lgsp demo`` (idempotent; credentials are public)."""

from __future__ import annotations

from datetime import date
from typing import Any

from hub.db import Connection, fetch_one
from identity import mfa
from identity.accounts import service as accounts
from identity.accounts import store as account_store
from identity.orgs import service as orgs
from identity.orgs import store as org_store

# A fixed base32 secret, so that the demo can show (and tests can compute) Bình's codes.
BINH_TOTP_SECRET = "LGSPDEMOBINH2345LGSPDEMOBINH2345"  # noqa: S105 - public demo secret

CITIZENS: tuple[dict[str, Any], ...] = (
    {
        "key": "citizen_level1",
        "pin": "001087012345",
        "full_name": "Nguyễn Văn An",
        "birth_date": date(1987, 3, 15),
        "sex": "male",
        "password": "An@demo2025",
        "email": "an.nguyen@example.vn",
        "phone": "0912345678",
        "level": 1,
        "totp_secret": None,
    },
    {
        "key": "citizen_level2",
        "pin": "079301234567",
        "full_name": "Trần Thị Bình",
        "birth_date": date(2001, 7, 2),
        "sex": "female",
        "password": "Binh@demo2025",
        "email": "binh.tran@example.vn",
        "phone": "0987654321",
        "level": 2,
        "totp_secret": BINH_TOTP_SECRET,
    },
    {
        "key": "org_staff",
        "pin": "048095001122",
        "full_name": "Lê Hoàng Cường",
        "birth_date": date(1995, 11, 20),
        "sex": "male",
        "password": "Cuong@demo2025",
        "email": "cuong.le@example.vn",
        "phone": None,
        "level": 1,
        "totp_secret": None,
    },
)

ORGANIZATION = {
    "tax_code": "0108888888",
    "name_vi": "Công ty TNHH Phần mềm Sông Hồng",
    "name_en": "Song Hong Software Company Limited",
    "address": "Số 1 Phố Tràng Tiền, phường Hoàn Kiếm, Hà Nội",
    "representative": "079301234567",
    "staff": "048095001122",
}


def seed(conn: Connection) -> dict[str, Any]:
    """Create (or reset to known credentials) the demo citizens and organization."""
    people: dict[str, Any] = {}
    ids: dict[str, str] = {}
    for person in CITIZENS:
        account = account_store.find_by_pin(conn, person["pin"])
        if account is None:
            account = accounts.create_citizen(
                conn,
                pin=person["pin"],
                full_name=person["full_name"],
                birth_date=person["birth_date"],
                sex=person["sex"],
                password=person["password"],
                email=person["email"],
                phone=person["phone"],
                level=person["level"],
            )
        else:
            accounts.set_password(conn, account_id=account.id, password=person["password"])
            account_store.update_level(conn, account.id, person["level"])
        if person["totp_secret"]:
            mfa.enable_totp(conn, account_id=account.id, secret=person["totp_secret"])
        ids[person["pin"]] = account.id
        people[person["key"]] = {
            "pin": person["pin"],
            "full_name": person["full_name"],
            "password": person["password"],
            "level": person["level"],
            "totp_secret": person["totp_secret"],
        }
    org = org_store.find_by_tax_code(conn, ORGANIZATION["tax_code"])
    if org is None:
        org = orgs.create_organization(
            conn,
            tax_code=ORGANIZATION["tax_code"],
            name_vi=ORGANIZATION["name_vi"],
            name_en=ORGANIZATION["name_en"],
            address=ORGANIZATION["address"],
        )
    for pin, role, by in (
        (ORGANIZATION["representative"], "representative", None),
        (ORGANIZATION["staff"], "staff", ids[ORGANIZATION["representative"]]),
    ):
        exists = fetch_one(
            conn,
            "SELECT 1 AS x FROM organization_members WHERE organization_id = %(o)s"
            " AND account_id = %(a)s",
            {"o": org.id, "a": ids[pin]},
        )
        if exists is None:
            orgs.add_member(conn, tax_code=org.tax_code, pin=pin, role=role, authorised_by=by)
    return {
        "citizens": people,
        "organization": {
            "tax_code": org.tax_code,
            "name": org.name_vi,
            "representative_pin": ORGANIZATION["representative"],
            "staff_pin": ORGANIZATION["staff"],
        },
    }

"""Identifier validation, password hashing, and the account/organization services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import argon2
import pytest

from hub.db import Connection, fetch_one
from hub.errors import ConflictError, NotFoundError, ValidationError
from identity import passwords
from identity.accounts import service, store
from identity.orgs import service as orgs
from identity.validation import parse_pin, tax_check_digit, validate_pin, validate_tax_code


@pytest.mark.parametrize(
    "pin, province, sex, year",
    [
        ("001087012345", "Hà Nội", "male", 1987),
        ("079300123456", "TP. Hồ Chí Minh", "female", 2000),
        ("048095001234", "Đà Nẵng", "male", 1995),
        ("096199000001", "Cà Mau", "female", 1999),
    ],
)
def test_pin_parsed(pin: str, province: str, sex: str, year: int) -> None:
    info = parse_pin(pin)
    assert (info.province, info.sex, info.birth_year) == (province, sex, year)


@pytest.mark.parametrize(
    "pin, reason",
    [
        ("00108701234", "exactly 12 digits"),
        ("0010870123456", "exactly 12 digits"),
        ("00108701234a", "exactly 12 digits"),
        ("００１087012345", "exactly 12 digits"),  # full-width digits
        ("٠٠١087012345", "exactly 12 digits"),  # Arabic-Indic digits
        ("003087012345", "003, which is not a known province code"),
        ("097087012345", "097, which is not a known province code"),
        ("", "exactly 12 digits"),
    ],
)
def test_bad_pins_refused_with_reason(pin: str, reason: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_pin(pin)
    assert reason in err.value.detail


def test_pin_must_match_birth_date_and_sex() -> None:
    validate_pin("001087012345", birth_date=date(1987, 3, 15), sex="male")
    with pytest.raises(
        ValidationError, match="encodes birth year 1987, but the birth date is in 1988"
    ):
        validate_pin("001087012345", birth_date=date(1988, 3, 15))
    with pytest.raises(ValidationError, match="encodes sex male, but female was given"):
        validate_pin("001087012345", sex="female")
    # 21st century: 2 = male, 3 = female
    with pytest.raises(ValidationError, match="birth year 2000"):
        validate_pin("079300123456", birth_date=date(1900, 7, 21))


@pytest.mark.parametrize(
    "code",
    [
        "0100233488",
        "0314409058",
        "0314409058-002",
        "0100047516",
        "0100112437",
        "0312687878",
        "0109000304",
        "0315065353",
        "0101234565",
    ],
)
def test_good_tax_codes(code: str) -> None:
    assert validate_tax_code(code) == code


@pytest.mark.parametrize(
    "code, reason",
    [
        ("0100233480", "wrong check digit (the 10th digit should be 8)"),
        ("010233488", "must be 10 digits"),
        ("01002334881", "must be 10 digits"),
        ("0100233488-01", "must be 10 digits"),
        ("0100233488-000", "branch number cannot be 000"),
        ("0109876540", "cannot exist: its first nine digits have no check digit"),
        ("0000000019", "cannot start with 00"),
        ("0100000000", "sequence number cannot be 0000000"),
        ("01OO233488", "must be 10 digits"),
    ],
)
def test_bad_tax_codes_refused_with_reason(code: str, reason: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_tax_code(code)
    assert reason in err.value.detail


def test_check_digit_worked_example_from_the_circular() -> None:
    assert tax_check_digit("010004751") == 6
    assert tax_check_digit("010987654") is None


def test_password_hash_is_argon2id_with_owasp_parameters() -> None:
    hashed = passwords.hash_password("correct horse battery")
    params = argon2.extract_parameters(hashed)
    assert hashed.startswith("$argon2id$")
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2 and params.parallelism == 1
    assert passwords.verify(hashed, "correct horse battery")
    assert not passwords.verify(hashed, "wrong horse battery")
    assert not passwords.verify("not a hash", "x")
    assert not passwords.verify(None, "x")


def _citizen(conn: Connection, **overrides: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = dict(
        pin="001087012345",
        full_name="Nguyễn Văn An",
        birth_date=date(1987, 3, 15),
        sex="male",
        password="mật-khẩu-dài-2025",
    )
    values.update(overrides)
    return service.create_citizen(conn, **values)  # type: ignore[arg-type]


def test_create_citizen_normalises_name_and_stores_hash(conn: Connection) -> None:
    decomposed = "Nguye\u0302\u0303n  Va\u0306n An "  # NFD with double space
    account = _citizen(conn, full_name=decomposed, email="an@example.vn", phone="091 234 5678")
    assert account.full_name == "Nguyễn Văn An"
    assert account.phone == "0912345678"
    assert account.level == 1 and not account.mfa_enabled
    assert store.get(conn, account.id) == account
    assert store.find_by_pin(conn, "001087012345") == account
    assert store.find_by_pin(conn, "001087099999") is None
    row = fetch_one(conn, "SELECT password_hash FROM accounts WHERE id = %s", (account.id,))
    assert row is not None and row["password_hash"].startswith("$argon2id$")
    assert "mật-khẩu" not in row["password_hash"]


def test_get_unknown_account_raises_not_found(conn: Connection) -> None:
    with pytest.raises(NotFoundError):
        store.get(conn, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundError):
        store.get(conn, "not-a-uuid")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"full_name": "x" * 201}, "longer than 200"),
        ({"full_name": "  "}, "full name is required"),
        ({"full_name": "An\x00"}, "control characters"),
        ({"password": "short"}, "at least 10"),
        ({"password": "p" * 300}, "at most 256"),
        ({"email": "no-at-sign"}, "e-mail address is not valid"),
        ({"email": "a@" + "b" * 260 + ".vn"}, "longer than 254"),
        ({"phone": "12"}, "8 to 15 digits"),
        ({"level": 3}, "1 or 2"),
        ({"sex": "other"}, "'male' or 'female'"),
        ({"birth_date": date(1988, 1, 1)}, "birth year 1987"),
        ({"roles": ("root",)}, "Unknown role"),
    ],
)
def test_create_citizen_refuses_bad_input(conn: Connection, overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _citizen(conn, **overrides)


def test_duplicate_pin_is_a_conflict(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as conn:
        _citizen(conn)
    with pytest.raises(ConflictError, match="already exists"):
        with db.transaction() as conn:
            _citizen(conn)


def test_verify_password_and_rehash_upgrade(conn: Connection) -> None:
    account = _citizen(conn)
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    store.update_password_hash(conn, account.id, weak.hash("mật-khẩu-dài-2025"))
    assert service.verify_password(conn, pin=account.pin, password="wrong-password") is None
    still_weak = store.get_secrets(conn, account.id)["password_hash"]
    assert argon2.extract_parameters(still_weak).time_cost == 1
    assert service.verify_password(conn, pin=account.pin, password="mật-khẩu-dài-2025") == account
    upgraded = store.get_secrets(conn, account.id)["password_hash"]
    assert upgraded != still_weak and not passwords.needs_rehash(upgraded)
    assert service.verify_password(conn, pin="001087099999", password="x" * 12) is None
    assert service.verify_password(conn, pin="garbage", password="x" * 12) is None


def test_change_password(conn: Connection) -> None:
    account = _citizen(conn)
    with pytest.raises(ValidationError, match="current password is not correct"):
        service.change_password(
            conn, account_id=account.id, current_password="nope-nope-nope", new_password="x" * 12
        )
    with pytest.raises(ValidationError, match="at least 10"):
        service.change_password(
            conn, account_id=account.id, current_password="mật-khẩu-dài-2025", new_password="short"
        )
    service.change_password(
        conn,
        account_id=account.id,
        current_password="mật-khẩu-dài-2025",
        new_password="một mật khẩu mới",
    )
    assert service.verify_password(conn, pin=account.pin, password="một mật khẩu mới") == account


def test_organizations_and_memberships(conn: Connection) -> None:
    rep = _citizen(
        conn,
        pin="079300123456",
        full_name="Trần Thị Bình",
        birth_date=date(2000, 7, 21),
        sex="female",
        level=2,
    )
    staff = _citizen(conn)
    org = orgs.create_organization(
        conn,
        tax_code="0101234565",
        name_vi="Công ty TNHH Phần mềm Sông Hồng",
        representative_pin=rep.pin,
    )
    now = datetime.now(UTC)
    orgs.add_member(
        conn,
        tax_code=org.tax_code,
        pin=staff.pin,
        role="staff",
        authorised_by=rep.id,
        expires_at=now + timedelta(days=30),
    )
    [m] = orgs.list_memberships(conn, rep.id)
    assert (m.tax_code, m.name, m.role, m.expires_at) == (
        "0101234565",
        "Công ty TNHH Phần mềm Sông Hồng",
        "representative",
        None,
    )
    [s] = orgs.list_memberships(conn, staff.id)
    assert s.role == "staff" and s.expires_at is not None
    assert orgs.list_memberships(conn, staff.id, now=now + timedelta(days=31)) == []
    with pytest.raises(ValidationError, match="Only a representative"):
        orgs.add_member(
            conn, tax_code=org.tax_code, pin=rep.pin, role="staff", authorised_by=staff.id
        )
    with pytest.raises(ValidationError, match="expiry must be in the future"):
        orgs.add_member(
            conn,
            tax_code=org.tax_code,
            pin=staff.pin,
            role="staff",
            expires_at=now - timedelta(days=1),
        )
    with pytest.raises(NotFoundError, match="No organization"):
        orgs.add_member(conn, tax_code="0100233488", pin=staff.pin, role="staff")
    with pytest.raises(NotFoundError, match="No account"):
        orgs.add_member(conn, tax_code=org.tax_code, pin="001087099999", role="staff")
    with pytest.raises(ValidationError, match="check digit"):
        orgs.create_organization(conn, tax_code="0101234560", name_vi="X")
    with pytest.raises(ValidationError, match="longer than 300"):
        orgs.create_organization(conn, tax_code="0100233488", name_vi="X" * 301)


def test_duplicate_tax_code_and_member_are_conflicts(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as conn:
        _citizen(conn)
        orgs.create_organization(
            conn, tax_code="0101234565", name_vi="Sông Hồng", representative_pin="001087012345"
        )
    with pytest.raises(ConflictError, match="tax code already exists"):
        with db.transaction() as conn:
            orgs.create_organization(conn, tax_code="0101234565", name_vi="Khác")
    with pytest.raises(ConflictError, match="already a member"):
        with db.transaction() as conn:
            orgs.add_member(conn, tax_code="0101234565", pin="001087012345", role="staff")


def test_demo_seed_is_idempotent(db) -> None:  # type: ignore[no-untyped-def]
    from identity import demo_seed

    for _ in range(2):
        with db.transaction() as conn:
            info = demo_seed.seed(conn)
    assert info["organization"]["tax_code"] == "0108888888"
    assert info["citizens"]["citizen_level2"]["totp_secret"] == demo_seed.BINH_TOTP_SECRET
    with db.transaction() as conn:
        binh = store.find_by_pin(conn, "079301234567")
        assert binh is not None and binh.level == 2 and binh.mfa_enabled
        assert [m.role for m in orgs.list_memberships(conn, binh.id)] == ["representative"]
        cuong = store.find_by_pin(conn, "048095001122")
        assert cuong is not None
        assert [m.role for m in orgs.list_memberships(conn, cuong.id)] == ["staff"]
        assert service.verify_password(conn, pin="001087012345", password="An@demo2025")

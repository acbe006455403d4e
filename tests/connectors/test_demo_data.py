"""The synthetic registries: valid identifiers, Vietnamese names, stable demo people."""

from __future__ import annotations

import unicodedata
from datetime import date

from connectors.checks import is_valid_tax_code, tax_check_digit
from connectors.demo.business import DEMO_ORGANIZATIONS
from connectors.demo.population import DEMO_CITIZENS
from connectors.demo.synthetic import (
    fold_name,
    generate_citizens,
    generate_enterprises,
    is_valid_pin,
)


def test_demo_citizens() -> None:
    an = DEMO_CITIZENS[0]
    assert (an.full_name, an.pin, an.birth_date, an.sex) == (
        "Nguyễn Văn An", "001087012345", date(1987, 3, 15), 1,
    )  # fmt: skip
    assert len(DEMO_CITIZENS) >= 3
    assert DEMO_CITIZENS[1].sex == 2 and DEMO_CITIZENS[1].birth_date.year >= 2000
    for c in DEMO_CITIZENS:
        assert is_valid_pin(c.pin, c.birth_date, c.sex), c


def test_generated_citizens_are_valid_and_deterministic() -> None:
    people = generate_citizens()
    assert len(people) >= 1000
    assert len({p.pin for p in people}) == len(people)
    for p in people:
        assert is_valid_pin(p.pin, p.birth_date, p.sex), p
        assert unicodedata.is_normalized("NFC", p.full_name)
    assert generate_citizens.__wrapped__() == people


def test_pin_rules() -> None:
    assert is_valid_pin("079301234567", date(2001, 7, 2), 2)
    assert not is_valid_pin("079301234567", date(2001, 7, 2), 1)  # sex digit says female
    assert not is_valid_pin("079001234567", date(2001, 7, 2), 2)  # 1900s digit for a 2001 birth
    assert not is_valid_pin("999087012345")  # unknown province
    assert not is_valid_pin("00108701234")


def test_tax_codes() -> None:
    assert tax_check_digit("010888888") == 8
    assert tax_check_digit("010999999") is None  # remainder 0 gives 10: never issued
    assert is_valid_tax_code("0108888888")
    assert is_valid_tax_code("0108888888-001")
    assert not is_valid_tax_code("0108888880")
    firms = generate_enterprises()
    assert len(firms) >= 500
    assert all(is_valid_tax_code(f.tax_code) for f in firms)


def test_demo_organization_is_represented_by_a_demo_citizen() -> None:
    org = DEMO_ORGANIZATIONS[0]
    assert org.name == "Công ty TNHH Phần mềm Sông Hồng"
    assert is_valid_tax_code(org.tax_code)
    assert org.representative in DEMO_CITIZENS


def test_fold_name() -> None:
    assert fold_name("  Nguyễn  Văn An ") == "NGUYEN VAN AN"
    assert fold_name("Đặng Thị Ánh") == "DANG THI ANH"

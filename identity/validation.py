"""Vietnamese identifiers: the personal identification number (PIN) and the tax code.

Rules from Decree 137/2015 + Circular 07/2016/TT-BCA (PIN) and Circular 105/2020/TT-BTC
Art. 5 (tax code); see docs/identity-accounts.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from hub.errors import ValidationError

# Province of birth registration, "0" + the 2-digit national code (pre-2025, 63 provinces).
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa – Vũng Tàu", "079": "TP. Hồ Chí Minh", "080": "Long An",
    "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
    "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip

TAX_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
SEXES = ("male", "female")

_PIN = re.compile(r"[0-9]{12}", re.ASCII)
_TAX = re.compile(r"([0-9]{10})(?:-([0-9]{3}))?", re.ASCII)
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9]{8,15}", re.ASCII)

MAX_NAME = 200
MAX_EMAIL = 254
MAX_ORG_NAME = 300
MAX_ADDRESS = 500
MIN_PASSWORD = 10
MAX_PASSWORD = 256


@dataclass(frozen=True)
class PinInfo:
    """What a PIN says about its holder."""

    pin: str
    province_code: str
    province: str
    sex: str
    birth_year: int


def parse_pin(pin: str) -> PinInfo:
    """Check a PIN's shape and province code and return what it encodes (raise ValidationError)."""
    if not isinstance(pin, str) or not _PIN.fullmatch(pin):
        raise ValidationError(
            "The personal identification number must be exactly 12 digits (0–9).",
            field="pin",
        )
    province_code = pin[:3]
    province = PROVINCE_CODES.get(province_code)
    if province is None:
        raise ValidationError(
            f"The personal identification number starts with {province_code}, "
            "which is not a known province code.",
            field="pin",
        )
    g = int(pin[3])
    return PinInfo(
        pin=pin,
        province_code=province_code,
        province=province,
        sex="female" if g % 2 else "male",
        birth_year=1900 + 100 * (g // 2) + int(pin[4:6]),
    )


def validate_pin(pin: str, *, birth_date: date | None = None, sex: str | None = None) -> str:
    """A valid PIN, consistent with the birth date and sex when they are given."""
    info = parse_pin(pin)
    if birth_date is not None and birth_date.year != info.birth_year:
        raise ValidationError(
            f"The personal identification number encodes birth year {info.birth_year}, "
            f"but the birth date is in {birth_date.year}.",
            field="pin",
        )
    if sex is not None and sex != info.sex:
        raise ValidationError(
            f"The personal identification number encodes sex {info.sex}, but {sex} was given.",
            field="pin",
        )
    return pin


def tax_check_digit(first9: str) -> int | None:
    """The check digit for nine digits, or None when that sequence is never issued."""
    total = sum(w * int(d) for w, d in zip(TAX_WEIGHTS, first9, strict=True))
    remainder = total % 11
    return None if remainder == 0 else 10 - remainder


def validate_tax_code(code: str) -> str:
    """A valid tax code (10 digits, or 10 + "-" + 3 digits for a branch), else ValidationError."""
    match = _TAX.fullmatch(code) if isinstance(code, str) else None
    if match is None:
        raise ValidationError(
            "The tax code must be 10 digits, or 10 digits, '-' and 3 digits for a branch.",
            field="tax_code",
        )
    main, branch = match.group(1), match.group(2)
    if main[:2] == "00":
        raise ValidationError("The tax code cannot start with 00.", field="tax_code")
    if main[2:9] == "0000000":
        raise ValidationError("The tax code's sequence number cannot be 0000000.", field="tax_code")
    check = tax_check_digit(main[:9])
    if check is None:
        raise ValidationError(
            f"The tax code {main} cannot exist: its first nine digits have no check digit.",
            field="tax_code",
        )
    if int(main[9]) != check:
        raise ValidationError(
            f"The tax code {main} has a wrong check digit (the 10th digit should be {check}).",
            field="tax_code",
        )
    if branch == "000":
        raise ValidationError("A branch number cannot be 000.", field="tax_code")
    return code


def clean_text(
    value: str | None, *, field: str, label: str, max_length: int, required: bool = False
) -> str | None:
    """NFC-normalised, stripped text within a length limit (None when empty and optional)."""
    if value is None or not value.strip():
        if required:
            raise ValidationError(f"{label} is required.", field=field)
        return None
    text = unicodedata.normalize("NFC", value.strip())
    if len(text) > max_length:
        raise ValidationError(f"{label} is longer than {max_length} characters.", field=field)
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValidationError(f"{label} contains control characters.", field=field)
    return text


def validate_name(name: str) -> str:
    """A person's full name, NFC-normalised with diacritics kept."""
    text = clean_text(
        name, field="full_name", label="The full name", max_length=MAX_NAME, required=True
    )
    assert text is not None
    return " ".join(text.split())


def validate_sex(sex: str | None) -> str | None:
    """``male``, ``female`` or None."""
    if sex is None or sex == "":
        return None
    if sex not in SEXES:
        raise ValidationError("Sex must be 'male' or 'female'.", field="sex")
    return sex


def validate_email(email: str | None) -> str | None:
    """A plausible e-mail address or None."""
    text = clean_text(email, field="email", label="The e-mail address", max_length=MAX_EMAIL)
    if text is not None and not _EMAIL.fullmatch(text):
        raise ValidationError("The e-mail address is not valid.", field="email")
    return text


def validate_phone(phone: str | None) -> str | None:
    """A phone number of 8–15 digits (spaces, dots and dashes removed) or None."""
    if phone is None or not phone.strip():
        return None
    compact = re.sub(r"[\s.\-()]", "", phone)
    if not _PHONE.fullmatch(compact):
        raise ValidationError("The phone number must have 8 to 15 digits.", field="phone")
    return compact


def validate_password(password: str) -> str:
    """A new password of reasonable length."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"The password must have at least {MIN_PASSWORD} characters.", field="password"
        )
    if len(password) > MAX_PASSWORD:
        raise ValidationError(
            f"The password must have at most {MAX_PASSWORD} characters.", field="password"
        )
    return password


def validate_level(level: int) -> int:
    """An assurance level: 1 or 2."""
    if level not in (1, 2):
        raise ValidationError("The assurance level must be 1 or 2.", field="level")
    return level

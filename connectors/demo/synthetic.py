"""Deterministic synthetic citizens and enterprises for the demo ministries."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from connectors.checks import tax_check_digit

# Province codes of birth registration (historic, unchanged by the 2025 merger).
PROVINCES: dict[str, str] = {
    "001": "Hà Nội",
    "031": "Hải Phòng",
    "034": "Thái Bình",
    "036": "Nam Định",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "079": "Hồ Chí Minh",
    "092": "Cần Thơ",
}

WARDS: dict[str, list[tuple[str, str]]] = {
    "001": [
        ("00004", "Phường Ba Đình"),
        ("00082", "Phường Hoàn Kiếm"),
        ("00166", "Phường Cầu Giấy"),
    ],
    "031": [("11311", "Phường Hồng Bàng"), ("11329", "Phường Lê Chân")],
    "034": [("12442", "Phường Trần Lãm"), ("12451", "Phường Kỳ Bá")],
    "036": [("13666", "Phường Nam Định"), ("13669", "Phường Vị Khê")],
    "038": [("14755", "Phường Hạc Thành"), ("14758", "Phường Quảng Phú")],
    "040": [("16681", "Phường Thành Vinh"), ("16690", "Phường Vinh Hưng")],
    "046": [("19753", "Phường Thuận Hóa"), ("19774", "Phường Phú Xuân")],
    "048": [("20194", "Phường Hải Châu"), ("20227", "Phường Sơn Trà")],
    "079": [
        ("26734", "Phường Sài Gòn"),
        ("26740", "Phường Bến Thành"),
        ("27004", "Phường Tân Định"),
    ],
    "092": [("31117", "Phường Ninh Kiều"), ("31120", "Phường Cái Khế")],
}

STREETS = [
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt",
    "Phan Chu Trinh", "Quang Trung", "Điện Biên Phủ", "Võ Thị Sáu", "Hùng Vương",
]  # fmt: skip

SURNAMES = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
    "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
]  # fmt: skip
MIDDLE_MALE = ["Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Hoàng", "Công"]
MIDDLE_FEMALE = ["Thị", "Ngọc", "Thu", "Thanh", "Mai", "Kim", "Phương", "Bích"]
GIVEN_MALE = [
    "An", "Bảo", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phúc",
    "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Đạt",
]  # fmt: skip
GIVEN_FEMALE = [
    "Anh", "Bình", "Chi", "Dung", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Ngân",
    "Nhung", "Phượng", "Thảo", "Trang", "Vy", "Yến",
]  # fmt: skip

# Ethnicity codes follow the order of the national list of 54 groups (official numbers unverified).
ETHNICITIES: dict[str, str] = {
    "01": "Kinh",
    "02": "Tày",
    "03": "Thái",
    "04": "Mường",
    "05": "Khmer",
}
RELIGIONS: dict[str, str] = {"00": "Không", "01": "Phật giáo", "02": "Công giáo", "03": "Cao Đài"}
GENDERS: dict[int, str] = {0: "unknown", 1: "male", 2: "female"}
MARITAL: dict[int, str] = {1: "single", 2: "married", 3: "divorced", 4: "widowed"}

LEGAL_FORMS: dict[int, str] = {
    1: "Công ty TNHH một thành viên",
    2: "Công ty TNHH hai thành viên trở lên",
    3: "Công ty cổ phần",
    4: "Công ty hợp danh",
    5: "Doanh nghiệp tư nhân",
}
STATUSES: dict[int, str] = {
    1: "Đang hoạt động",
    2: "Tạm ngừng kinh doanh",
    3: "Đang làm thủ tục giải thể",
    4: "Đã giải thể",
}


def nfc(text: str) -> str:
    """Return text in Unicode NFC form."""
    return unicodedata.normalize("NFC", text)


def fold_name(text: str) -> str:
    """Fold a Vietnamese name for matching: no diacritics, đ → d, upper case, single spaces."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.upper().split())


def century_sex_digit(birth_year: int, sex: int) -> int:
    """Return the 4th PIN digit: even for male, odd for female, by century (1900s → 0/1)."""
    century = (birth_year // 100) - 19
    return century * 2 + (1 if sex == 2 else 0)


def is_valid_pin(pin: str, birth: date | None = None, sex: int | None = None) -> bool:
    """Check a 12-digit personal identification number against province, century, sex, year."""
    if len(pin) != 12 or not pin.isdigit() or pin[:3] not in PROVINCES:
        return False
    digit = int(pin[3])
    if digit > 9:
        return False
    if birth is not None:
        if int(pin[4:6]) != birth.year % 100:
            return False
        if digit // 2 != (birth.year // 100) - 19:
            return False
    if sex is not None and (digit % 2 == 1) != (sex == 2):
        return False
    return True


@dataclass(frozen=True)
class Address:
    """An address as the population registry returns it: codes plus a free-text detail."""

    province_code: str
    ward_code: str
    detail: str
    district_code: str | None = None
    country: str = "VN"


@dataclass(frozen=True)
class Relative:
    """A parent or spouse, as referenced from a citizen record."""

    family_name: str
    middle_name: str
    given_name: str
    pin: str | None
    nationality: str = "VN"


@dataclass(frozen=True)
class Citizen:
    """A synthetic citizen of the demo population registry."""

    pin: str
    family_name: str
    middle_name: str
    given_name: str
    birth_date: date
    sex: int
    ethnicity: str = "01"
    religion: str = "00"
    marital_status: int = 1
    nationality: str = "VN"
    old_id_number: str | None = None
    birth_registration: Address | None = None
    hometown: Address | None = None
    permanent: Address | None = None
    current: Address | None = None
    father: Relative | None = None
    mother: Relative | None = None
    spouse: Relative | None = None
    phone: str | None = None
    email: str | None = None

    @property
    def full_name(self) -> str:
        """Return the full name, family name first."""
        return " ".join(p for p in (self.family_name, self.middle_name, self.given_name) if p)


@dataclass(frozen=True)
class Enterprise:
    """A synthetic enterprise of the demo business registry."""

    tax_code: str
    name: str
    legal_form: int
    status: int
    founding_date: date
    capital: int
    address: Address
    representative: Citizen
    name_en: str | None = None
    short_name: str | None = None
    main_business_code: str = "6201"
    main_business_name: str = "Lập trình máy vi tính"
    internal_id: int = 0
    branches: tuple[str, ...] = field(default_factory=tuple)


def _addr(province: str, ward: str, detail: str) -> Address:
    return Address(province_code=province, ward_code=ward, detail=nfc(detail))


DEMO_CITIZENS: tuple[Citizen, ...] = (
    Citizen(
        pin="001087012345",
        family_name="Nguyễn",
        middle_name="Văn",
        given_name="An",
        birth_date=date(1987, 3, 15),
        sex=1,
        marital_status=2,
        old_id_number="012345678",
        birth_registration=_addr("001", "00004", "Phường Ba Đình, Hà Nội"),
        hometown=_addr("036", "13666", "Phường Nam Định, Ninh Bình"),
        permanent=_addr("001", "00082", "Số 12 phố Hàng Bạc, Phường Hoàn Kiếm, Hà Nội"),
        current=_addr("001", "00082", "Số 12 phố Hàng Bạc, Phường Hoàn Kiếm, Hà Nội"),
        father=Relative("Nguyễn", "Văn", "Bảo", "001058000111"),
        mother=Relative("Phạm", "Thị", "Lan", "001160000222"),
        spouse=Relative("Trần", "Thị", "Bình", "079301234567"),
        phone="0912345678",
        email="nguyen.van.an@example.vn",
    ),
    Citizen(
        pin="079301234567",
        family_name="Trần",
        middle_name="Thị",
        given_name="Bình",
        birth_date=date(2001, 7, 2),
        sex=2,
        marital_status=2,
        religion="01",
        birth_registration=_addr("079", "26734", "Phường Sài Gòn, Hồ Chí Minh"),
        hometown=_addr("079", "26734", "Phường Sài Gòn, Hồ Chí Minh"),
        permanent=_addr("001", "00082", "Số 12 phố Hàng Bạc, Phường Hoàn Kiếm, Hà Nội"),
        current=_addr("001", "00082", "Số 12 phố Hàng Bạc, Phường Hoàn Kiếm, Hà Nội"),
        father=Relative("Trần", "Văn", "Hùng", "079070000333"),
        mother=Relative("Lê", "Thị", "Hạnh", "079175000444"),
        spouse=Relative("Nguyễn", "Văn", "An", "001087012345"),
        phone="0987654321",
        email="tran.thi.binh@example.vn",
    ),
    Citizen(
        pin="048095001122",
        family_name="Lê",
        middle_name="Hoàng",
        given_name="Cường",
        birth_date=date(1995, 11, 20),
        sex=1,
        ethnicity="02",
        birth_registration=_addr("048", "20194", "Phường Hải Châu, Đà Nẵng"),
        hometown=_addr("046", "19753", "Phường Thuận Hóa, Huế"),
        permanent=_addr("048", "20227", "Số 5 đường Võ Nguyên Giáp, Phường Sơn Trà, Đà Nẵng"),
        current=_addr("048", "20227", "Số 5 đường Võ Nguyên Giáp, Phường Sơn Trà, Đà Nẵng"),
        father=Relative("Lê", "Văn", "Dũng", "048065000555"),
        mother=Relative("Võ", "Thị", "Thu", "046168000666"),
        phone="0905111222",
        email="le.hoang.cuong@example.vn",
    ),
)

DEMO_ORGANIZATIONS: tuple[Enterprise, ...] = (
    Enterprise(
        tax_code="0108888888",
        internal_id=1,
        name="Công ty TNHH Phần mềm Sông Hồng",
        name_en="Song Hong Software Company Limited",
        short_name="SONG HONG SOFT",
        legal_form=2,
        status=1,
        founding_date=date(2015, 6, 1),
        capital=5_000_000_000,
        address=_addr("001", "00166", "Tầng 8, số 1 phố Duy Tân, Phường Cầu Giấy, Hà Nội"),
        representative=DEMO_CITIZENS[1],
    ),
)


def _random_pin(rng: random.Random, province: str, birth: date, sex: int) -> str:
    digit = century_sex_digit(birth.year, sex)
    return f"{province}{digit}{birth.year % 100:02d}{rng.randrange(1_000_000):06d}"


def _random_address(rng: random.Random, province: str | None = None) -> Address:
    province = province or rng.choice(sorted(PROVINCES))
    ward_code, ward_name = rng.choice(WARDS[province])
    detail = (
        f"Số {rng.randint(1, 300)} đường {rng.choice(STREETS)}, {ward_name}, {PROVINCES[province]}"
    )
    return _addr(province, ward_code, detail)


def _random_person(rng: random.Random, sex: int, year_range: tuple[int, int]) -> tuple:
    family = rng.choice(SURNAMES)
    middle = rng.choice(MIDDLE_MALE if sex == 1 else MIDDLE_FEMALE)
    given = rng.choice(GIVEN_MALE if sex == 1 else GIVEN_FEMALE)
    start = date(year_range[0], 1, 1)
    birth = start + timedelta(days=rng.randrange((year_range[1] - year_range[0]) * 365))
    return family, middle, given, birth


@lru_cache(maxsize=4)
def generate_citizens(count: int = 1000, seed: int = 20250701) -> tuple[Citizen, ...]:
    """Return the demo citizens followed by `count` deterministic synthetic ones."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    seen = {c.pin for c in DEMO_CITIZENS}
    people: list[Citizen] = list(DEMO_CITIZENS)
    while len(people) < count + len(DEMO_CITIZENS):
        sex = rng.choice((1, 2))
        family, middle, given, birth = _random_person(rng, sex, (1940, 2007))
        province = rng.choice(sorted(PROVINCES))
        pin = _random_pin(rng, province, birth, sex)
        if pin in seen:
            continue
        seen.add(pin)
        f_family, f_middle, f_given, f_birth = _random_person(rng, 1, (1910, birth.year - 18))
        m_family, m_middle, m_given, m_birth = _random_person(rng, 2, (1910, birth.year - 18))
        home = _random_address(rng, province)
        people.append(
            Citizen(
                pin=pin,
                family_name=nfc(family),
                middle_name=nfc(middle),
                given_name=nfc(given),
                birth_date=birth,
                sex=sex,
                ethnicity=rng.choice(sorted(ETHNICITIES)),
                religion=rng.choice(sorted(RELIGIONS)),
                marital_status=rng.choice(sorted(MARITAL)),
                birth_registration=home,
                hometown=_random_address(rng),
                permanent=home,
                current=_random_address(rng) if rng.random() < 0.2 else home,
                father=Relative(
                    nfc(family), nfc(f_middle), nfc(f_given), _random_pin(rng, province, f_birth, 1)
                ),
                mother=Relative(
                    nfc(m_family),
                    nfc(m_middle),
                    nfc(m_given),
                    _random_pin(rng, province, m_birth, 2),
                ),
                phone=f"09{rng.randrange(100_000_000):08d}",
            )
        )
    return tuple(people)


def _random_tax_code(rng: random.Random, province: str) -> str:
    while True:
        first9 = f"{int(province) % 100:02d}{rng.randrange(10_000_000):07d}"
        check = tax_check_digit(first9)
        if check is not None:
            return f"{first9}{check}"


COMPANY_WORDS = [
    "Sao Mai", "Hoàng Long", "Phú Thịnh", "Thành Công", "Đại Việt", "Ánh Dương",
    "Bình Minh", "Trường Sơn", "Hồng Hà", "Cửu Long", "Tân Phát", "Việt Tiến",
]  # fmt: skip
COMPANY_TRADES = [
    ("4620", "Thương mại", "Bán buôn nông, lâm sản nguyên liệu"),
    ("6201", "Phần mềm", "Lập trình máy vi tính"),
    ("4100", "Xây dựng", "Xây dựng nhà các loại"),
    ("1079", "Thực phẩm", "Sản xuất thực phẩm khác"),
    ("5510", "Du lịch", "Dịch vụ lưu trú ngắn ngày"),
    ("4933", "Vận tải", "Vận tải hàng hóa bằng đường bộ"),
]


@lru_cache(maxsize=4)
def generate_enterprises(count: int = 500, seed: int = 20250702) -> tuple[Enterprise, ...]:
    """Return the demo organizations followed by `count` deterministic synthetic enterprises."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    citizens = generate_citizens()
    adults = [c for c in citizens if c.birth_date.year <= 2005]
    seen = {e.tax_code for e in DEMO_ORGANIZATIONS}
    out: list[Enterprise] = list(DEMO_ORGANIZATIONS)
    while len(out) < count + len(DEMO_ORGANIZATIONS):
        province = rng.choice(sorted(PROVINCES))
        code = _random_tax_code(rng, province)
        if code in seen:
            continue
        seen.add(code)
        form = rng.choice(sorted(LEGAL_FORMS))
        trade_code, trade_word, trade_name = rng.choice(COMPANY_TRADES)
        prefix = {1: "Công ty TNHH", 2: "Công ty TNHH", 3: "Công ty Cổ phần", 4: "Công ty Hợp danh"}
        brand = rng.choice(COMPANY_WORDS)
        name = f"{prefix.get(form, 'Doanh nghiệp tư nhân')} {trade_word} {brand}"
        out.append(
            Enterprise(
                tax_code=code,
                internal_id=len(out) + 1,
                name=nfc(name),
                short_name=fold_name(f"{brand} {trade_word}"),
                legal_form=form,
                status=rng.choices(sorted(STATUSES), weights=(85, 7, 4, 4))[0],
                founding_date=date(1995, 1, 1) + timedelta(days=rng.randrange(30 * 365)),
                capital=rng.randrange(1, 500) * 100_000_000,
                address=_random_address(rng, province),
                representative=rng.choice(adults),
                main_business_code=trade_code,
                main_business_name=nfc(trade_name),
            )
        )
    return tuple(out)

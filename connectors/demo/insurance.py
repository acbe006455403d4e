"""Demo social-insurance registry: SOAP 1.2 (spyne), WS-Security UsernameToken required."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from connectors.demo._spyne import (
    Application,
    Array,
    ComplexModel,
    Date,
    Fault,
    Integer,
    ServiceBase,
    Soap12,
    Unicode,
    WsgiApplication,
    rpc,
)
from connectors.demo.synthetic import DEMO_CITIZENS, DEMO_ORGANIZATIONS, Citizen, generate_citizens

NAMESPACE = "urn:lgsp:demo:bhxh:v1"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
DEMO_USERNAME = "lgsp-hub"
DEMO_PASSWORD = "demo-bhxh-secret"  # noqa: S105 - demo ministry, published on purpose
# Participation status codes (demo code table).
STATUS = {"1": "Đang tham gia", "2": "Tạm dừng đóng", "3": "Đã chốt sổ"}
DEMO_INSURANCE_NUMBERS = {DEMO_CITIZENS[0].pin: "0112345678", DEMO_CITIZENS[1].pin: "7912345670"}


class GiaiDoanThamGia(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("TuThang", Unicode),
        ("DenThang", Unicode),
        ("TenDonVi", Unicode),
        ("MaSoThueDonVi", Unicode),
    ]


class ThongTinThamGia(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("MaSoBHXH", Unicode),
        ("SoDinhDanh", Unicode),
        ("HoTen", Unicode),
        ("NgaySinh", Date),
        ("GioiTinh", Integer),
        ("TrangThai", Unicode),
        ("NgayBatDau", Date),
        ("QuaTrinhThamGia", Array(GiaiDoanThamGia)),
    ]


@dataclass(frozen=True)
class Insured:
    """One insured person."""

    number: str
    citizen: Citizen
    status: str
    since: date
    employer: str
    employer_tax_code: str


def insurance_number(citizen: Citizen) -> str:
    """Return the (deterministic) 10-digit social-insurance number of a citizen."""
    if citizen.pin in DEMO_INSURANCE_NUMBERS:
        return DEMO_INSURANCE_NUMBERS[citizen.pin]
    digest = int(hashlib.sha256(citizen.pin.encode()).hexdigest(), 16)
    return f"{citizen.pin[1:3]}{digest % 100_000_000:08d}"


def insured_people(citizens: Iterable[Citizen] | None = None) -> dict[str, Insured]:
    """Return the insured adults by insurance number."""
    org = DEMO_ORGANIZATIONS[0]
    out = {}
    for c in citizens if citizens is not None else generate_citizens():
        if c.birth_date.year > 2006:
            continue
        number = insurance_number(c)
        since = date(max(c.birth_date.year + 20, 2010), 1, 1)
        out[number] = Insured(
            number=number,
            citizen=c,
            status="1" if int(number[-1]) < 8 else "3",
            since=since,
            employer=org.name,
            employer_tax_code=org.tax_code,
        )
    return out


def _credentials(ctx: object) -> tuple[str | None, str | None]:
    for element in getattr(ctx, "in_header_doc", None) or ():
        if element.tag == f"{{{WSSE_NS}}}Security":
            user = element.findtext(f".//{{{WSSE_NS}}}Username")
            password = element.findtext(f".//{{{WSSE_NS}}}Password")
            return user, password
    return None, None


def make_insurance_app(
    citizens: Iterable[Citizen] | None = None,
    *,
    username: str = DEMO_USERNAME,
    password: str = DEMO_PASSWORD,
) -> WsgiApplication:
    """Return the WSGI app of the demo social-insurance registry (SOAP 1.2, WSDL at ?wsdl)."""
    people = insured_people(citizens)

    class TraCuuBHXH(ServiceBase):
        @rpc(
            Unicode(min_occurs=1, nillable=False),
            _returns=ThongTinThamGia,
            _out_variable_name="ThongTin",
        )
        def TraCuuQuaTrinhThamGia(ctx, MaSoBHXH):  # noqa: N802, N803
            """Return a person's social-insurance participation; a fault when unknown."""
            user, secret = _credentials(ctx)
            if user != username or secret != password:
                raise Fault(
                    faultcode="Client.XacThucThatBai",
                    faultstring="WS-Security UsernameToken không hợp lệ",
                )
            person = people.get((MaSoBHXH or "").strip())
            if person is None:
                raise Fault(
                    faultcode="Client.KhongTimThay",
                    faultstring="Không tìm thấy mã số BHXH",
                )
            c = person.citizen
            return ThongTinThamGia(
                MaSoBHXH=person.number,
                SoDinhDanh=c.pin,
                HoTen=c.full_name,
                NgaySinh=c.birth_date,
                GioiTinh=c.sex,
                TrangThai=person.status,
                NgayBatDau=person.since,
                QuaTrinhThamGia=[
                    GiaiDoanThamGia(
                        TuThang=person.since.strftime("%m/%Y"),
                        DenThang=None,
                        TenDonVi=person.employer,
                        MaSoThueDonVi=person.employer_tax_code,
                    )
                ],
            )

    app = Application(
        [TraCuuBHXH],
        tns=NAMESPACE,
        name="BaoHiemXaHoiService",
        in_protocol=Soap12(validator="lxml"),
        out_protocol=Soap12(),
    )
    return WsgiApplication(app)

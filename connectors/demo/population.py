"""Demo national population registry: a real SOAP 1.1 document/literal service (spyne)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.demo._spyne import (
    Application,
    Array,
    ComplexModel,
    Date,
    Fault,
    Integer,
    ServiceBase,
    Soap11,
    Unicode,
    WsgiApplication,
    rpc,
)
from connectors.demo.synthetic import (
    DEMO_CITIZENS,
    Address,
    Citizen,
    Relative,
    fold_name,
    generate_citizens,
)

__all__ = ["DEMO_CITIZENS", "NAMESPACE", "HeaderRecorder", "make_population_app"]

NAMESPACE = "urn:lgsp:demo:csdlqg-dancu:v1"
FOUND, NOT_FOUND = "00", "01"


class HoVaTen(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [("Ho", Unicode), ("ChuDem", Unicode), ("Ten", Unicode)]


class NgayThangNamSinh(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [("Nam", Integer), ("Thang", Integer), ("Ngay", Integer)]


class DiaChi(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("MaTinhThanh", Unicode),
        ("MaQuanHuyen", Unicode),
        ("MaPhuongXa", Unicode),
        ("ChiTiet", Unicode),
        ("QuocGia", Unicode),
    ]


class NguoiThan(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("HoVaTen", HoVaTen),
        ("QuocTich", Unicode),
        ("SoDinhDanh", Unicode),
        ("SoCMND", Unicode),
    ]


class CongDan(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("SoDinhDanh", Unicode),
        ("SoCMND", Unicode),
        ("HoVaTen", HoVaTen),
        ("GioiTinh", Integer),
        ("DanToc", Unicode),
        ("TonGiao", Unicode),
        ("TinhTrangHonNhan", Integer),
        ("QuocTich", Unicode),
        ("NgayThangNamSinh", NgayThangNamSinh),
        ("NoiDangKyKhaiSinh", DiaChi),
        ("QueQuan", DiaChi),
        ("ThuongTru", DiaChi),
        ("NoiOHienTai", DiaChi),
        ("Cha", NguoiThan),
        ("Me", NguoiThan),
        ("VoChong", NguoiThan),
        ("SoDienThoai", Unicode),
        ("Email", Unicode),
    ]


class KetQuaTraCuu(ComplexModel):
    __namespace__ = NAMESPACE
    _type_info = [
        ("MaKetQua", Unicode),
        ("MoTa", Unicode),
        ("CongdanCollection", Array(CongDan)),
    ]


class ThongTinYeuCau(ComplexModel):
    """SOAP header: who asks and why (request id, procedure code, agency, official)."""

    __namespace__ = NAMESPACE
    _type_info = [
        ("MaYeuCau", Unicode),
        ("MaThuTuc", Unicode),
        ("MaDonVi", Unicode),
        ("MaCanBo", Unicode),
    ]


@dataclass
class HeaderRecorder:
    """Keeps the SOAP headers the demo service received (for tests and the demo's log)."""

    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, headers: dict[str, Any]) -> None:
        """Remember one request's headers."""
        with self.lock:
            self.received.append(headers)
            del self.received[:-100]


def _address(a: Address | None) -> DiaChi | None:
    if a is None:
        return None
    return DiaChi(
        MaTinhThanh=a.province_code,
        MaQuanHuyen=a.district_code,
        MaPhuongXa=a.ward_code,
        ChiTiet=a.detail,
        QuocGia=a.country,
    )


def _relative(r: Relative | None) -> NguoiThan | None:
    if r is None:
        return None
    return NguoiThan(
        HoVaTen=HoVaTen(Ho=r.family_name, ChuDem=r.middle_name, Ten=r.given_name),
        QuocTich=r.nationality,
        SoDinhDanh=r.pin,
    )


def to_congdan(c: Citizen) -> CongDan:
    """Return the registry's answer for one citizen."""
    return CongDan(
        SoDinhDanh=c.pin,
        SoCMND=c.old_id_number,
        HoVaTen=HoVaTen(Ho=c.family_name, ChuDem=c.middle_name, Ten=c.given_name),
        GioiTinh=c.sex,
        DanToc=c.ethnicity,
        TonGiao=c.religion,
        TinhTrangHonNhan=c.marital_status,
        QuocTich=c.nationality,
        NgayThangNamSinh=NgayThangNamSinh(
            Nam=c.birth_date.year, Thang=c.birth_date.month, Ngay=c.birth_date.day
        ),
        NoiDangKyKhaiSinh=_address(c.birth_registration),
        QueQuan=_address(c.hometown),
        ThuongTru=_address(c.permanent),
        NoiOHienTai=_address(c.current),
        Cha=_relative(c.father),
        Me=_relative(c.mother),
        VoChong=_relative(c.spouse),
        SoDienThoai=c.phone,
        Email=c.email,
    )


def make_population_app(
    citizens: Iterable[Citizen] | None = None,
    *,
    recorder: HeaderRecorder | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> WsgiApplication:
    """Return the WSGI app of the demo population registry (WSDL at ?wsdl)."""
    people = {c.pin: c for c in (citizens if citizens is not None else generate_citizens())}

    class TraCuuDanCu(ServiceBase):
        __in_header__ = ThongTinYeuCau

        @rpc(
            Unicode(min_occurs=1, nillable=False),
            Unicode(min_occurs=1, nillable=False),
            Date(min_occurs=1, nillable=False),
            _returns=KetQuaTraCuu,
            _out_variable_name="KetQua",
        )
        def TraCuuCongDan(ctx, SoDinhDanh, HoVaTen, NgaySinh):  # noqa: N802, N803
            """Match and return: found only when PIN, full name and birth date all match."""
            header = ctx.in_header
            received = {
                name: getattr(header, name, None) if header is not None else None
                for name in ("MaYeuCau", "MaThuTuc", "MaDonVi", "MaCanBo")
            }
            if recorder is not None:
                recorder.record(received)
            if check is not None:
                check(received)
            pin = (SoDinhDanh or "").strip()
            if len(pin) != 12 or not pin.isdigit():
                raise Fault(
                    faultcode="Client.SoDinhDanhKhongHopLe",
                    faultstring="Số định danh cá nhân phải gồm 12 chữ số",
                )
            person = people.get(pin)
            birth: date | None = NgaySinh
            if (
                person is None
                or fold_name(person.full_name) != fold_name(HoVaTen or "")
                or person.birth_date != birth
            ):
                return KetQuaTraCuu(
                    MaKetQua=NOT_FOUND,
                    MoTa="Không tìm thấy thông tin công dân",
                    CongdanCollection=[],
                )
            return KetQuaTraCuu(
                MaKetQua=FOUND, MoTa="Thành công", CongdanCollection=[to_congdan(person)]
            )

    app = Application(
        [TraCuuDanCu],
        tns=NAMESPACE,
        name="DanCuService",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    return WsgiApplication(app)

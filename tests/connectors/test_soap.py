"""SOAP datasets against real local services (spyne demo ministries, recorded VIES/land)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import (
    BreakerRegistry,
    Context,
    DefinitionError,
    UpstreamFaultError,
    UpstreamUnavailableError,
    build_connector,
    load_definition,
)
from connectors.demo.server import DemoMinistries
from connectors.soap import clear_wsdl_cache
from tests.connectors.conftest import DATA, DATASETS, dataset

AN = {"so_dinh_danh": "001087012345", "ho_va_ten": "Nguyễn Văn An", "ngay_sinh": "1987-03-15"}


def population(ministries: DemoMinistries, breakers: BreakerRegistry, **changes: object):
    return build_connector(dataset("dan-cu", **changes), env=ministries.env, breakers=breakers)


def test_population_found(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    result = population(ministries, breakers).fetch(AN, ctx)
    assert result.found and not result.cached
    record = result.record
    assert record is not None
    assert record["pin"] == "001087012345"
    assert record["full_name"] == "Nguyễn Văn An"
    assert record["name"] == {"family_name": "Nguyễn", "middle_name": "Văn", "given_name": "An"}
    assert record["birth_date"] == "1987-03-15"
    assert record["sex"] == "male"
    assert record["ethnicity"] == "Kinh"
    assert record["marital_status"] == "married"
    assert record["permanent_address"]["ward_code"] == "00082"
    assert record["permanent_address"]["district_code"] is None
    assert record["spouse"] == {
        "full_name": "Trần Thị Bình",
        "pin": "079301234567",
        "nationality": "VN",
    }
    assert result.source.startswith(ministries.population.base_url)
    assert result.upstream_ms > 0


def test_name_matches_without_diacritics(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    result = population(ministries, breakers).fetch({**AN, "ho_va_ten": "NGUYEN VAN AN"}, ctx)
    assert result.found


@pytest.mark.parametrize(
    "change",
    [
        {"ho_va_ten": "Nguyễn Văn Anh"},
        {"ngay_sinh": "1987-03-16"},
        {"so_dinh_danh": "001087012346"},
    ],
)
def test_match_and_return_needs_all_three(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context, change: dict[str, str]
) -> None:
    result = population(ministries, breakers).fetch({**AN, **change}, ctx)
    assert (result.found, result.record) == (False, None)


def test_context_goes_into_soap_headers(
    ministries: DemoMinistries, breakers: BreakerRegistry
) -> None:
    ctx = Context(
        request_id="req-hdr-1", purpose="1.004227", calling_agency="H26", official_id="CB-7"
    )
    population(ministries, breakers).fetch(AN, ctx)
    assert ministries.population_headers.received[-1] == {
        "MaYeuCau": "req-hdr-1", "MaThuTuc": "1.004227", "MaDonVi": "H26", "MaCanBo": "CB-7",
    }  # fmt: skip


def test_field_set_limits_the_record(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    result = population(ministries, breakers).fetch(AN, ctx, field_set=["pin", "full_name"])
    assert result.record == {"pin": "001087012345", "full_name": "Nguyễn Văn An"}


def test_upstream_soap_fault_keeps_its_code(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    # The hub's own pattern would refuse this; loosen it to reach the registry's check.
    connector = population(
        ministries, breakers, params__so_dinh_danh={"type": "string", "pattern": "^[0-9]+$"}
    )
    with pytest.raises(UpstreamFaultError) as info:
        connector.fetch({**AN, "so_dinh_danh": "123"}, ctx)
    assert info.value.fault_code == "Client.SoDinhDanhKhongHopLe"
    assert info.value.fault_string == "Số định danh cá nhân phải gồm 12 chữ số"
    assert info.value.origin == "upstream"
    assert breakers.states()["dan-cu"] == {"state": "closed", "failures": 0}


def test_soap12_with_ws_security(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    definition = load_definition(DATASETS / "bao-hiem-xa-hoi.yaml")
    connector = build_connector(definition, env=ministries.env, breakers=breakers)
    result = connector.fetch({"ma_so_bhxh": "0112345678"}, ctx)
    assert result.found and result.record is not None
    assert result.record["pin"] == "001087012345"
    assert result.record["birth_date"] == "1987-03-15"
    assert result.record["periods"][0]["employer_tax_code"] == "0108888888"
    # "No data" arrives as a SOAP 1.2 fault with subcode KhongTimThay.
    assert not connector.fetch({"ma_so_bhxh": "0000000000"}, ctx).found


def test_ws_security_wrong_password(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context
) -> None:
    env = {**ministries.env, "LGSP_DEMO_BHXH_PASSWORD": "wrong"}
    connector = build_connector(
        load_definition(DATASETS / "bao-hiem-xa-hoi.yaml"), env=env, breakers=breakers
    )
    with pytest.raises(UpstreamFaultError) as info:
        connector.fetch({"ma_so_bhxh": "0112345678"}, ctx)
    assert info.value.fault_code == "Sender.XacThucThatBai"


def test_missing_credential_env_is_a_definition_error(
    ministries: DemoMinistries, breakers: BreakerRegistry
) -> None:
    env = {k: v for k, v in ministries.env.items() if k != "LGSP_DEMO_BHXH_PASSWORD"}
    with pytest.raises(DefinitionError, match="upstream.wsse.password_env: environment variable"):
        build_connector(
            load_definition(DATASETS / "bao-hiem-xa-hoi.yaml"), env=env, breakers=breakers
        )


def test_vies_wrapped_by_yaml_alone(hostile: str, breakers: BreakerRegistry, ctx: Context) -> None:
    definition = load_definition(DATA / "vies" / "vies.yaml")
    connector = build_connector(
        definition, env={"VIES_ADDRESS": f"{hostile}/soap/vies"}, breakers=breakers
    )
    result = connector.fetch({"country_code": "BE", "vat_number": "0123456749"}, ctx)
    assert result.record == {
        "country_code": "BE",
        "vat_number": "0123456749",
        "valid": True,
        "request_date": "2026-11-27",
        "name": "EXAMPLE TRADING NV",
        "address": "Rue de l'Exemple 1\n1000 Bruxelles",
    }
    assert not connector.fetch({"country_code": "BE", "vat_number": "0000000000"}, ctx).found
    with pytest.raises(UpstreamFaultError) as info:
        connector.fetch({"country_code": "XX", "vat_number": "123"}, ctx)
    assert (info.value.fault_code, info.value.fault_string) == ("Server", "INVALID_INPUT")


def test_rpc_literal_land_parcels(hostile: str, breakers: BreakerRegistry, ctx: Context) -> None:
    definition = load_definition(DATA / "land" / "thua-dat.yaml")
    connector = build_connector(
        definition, env={"LAND_ADDRESS": f"{hostile}/soap/land"}, breakers=breakers
    )
    result = connector.fetch({"ma_tinh": "001", "so_to": 12, "so_thua": 345}, ctx)
    assert result.record == {
        "province_code": "001",
        "map_sheet": 12,
        "parcel": 345,
        "area_m2": 120.5,
        "land_use": "urban_residential",
        "address": "Số 12 phố Hàng Bạc, Phường Hoàn Kiếm, Hà Nội",
        "certificate_date": "2019-05-20",
    }
    assert not connector.fetch({"ma_tinh": "001", "so_to": 1, "so_thua": 1}, ctx).found


def test_unreachable_wsdl(refused_url: str, breakers: BreakerRegistry) -> None:
    with pytest.raises(UpstreamUnavailableError, match="could not be loaded"):
        build_connector(
            dataset("dan-cu"),
            env={"LGSP_DEMO_POPULATION_WSDL": f"{refused_url}/?wsdl"},
            breakers=breakers,
        )


def test_lazy_connector_reports_the_wsdl_problem_on_use(
    refused_url: str, breakers: BreakerRegistry, ctx: Context
) -> None:
    connector = build_connector(
        dataset("dan-cu"),
        env={"LGSP_DEMO_POPULATION_WSDL": f"{refused_url}/?wsdl"},
        breakers=breakers,
        eager=False,
    )
    with pytest.raises(UpstreamUnavailableError):
        connector.fetch(AN, ctx)


def test_broken_wsdl_url(hostile: str, breakers: BreakerRegistry) -> None:
    clear_wsdl_cache()
    with pytest.raises(DefinitionError, match=r"upstream.wsdl: .* is not a valid WSDL"):
        build_connector(
            dataset("dan-cu"),
            env={"LGSP_DEMO_POPULATION_WSDL": f"{hostile}/soap/wsdl-broken"},
            breakers=breakers,
        )


def test_wsdl_with_dtd_is_refused(hostile: str, breakers: BreakerRegistry) -> None:
    with pytest.raises(DefinitionError, match="is not a valid WSDL"):
        build_connector(
            dataset("dan-cu"),
            env={"LGSP_DEMO_POPULATION_WSDL": f"{hostile}/soap/dtd"},
            breakers=breakers,
        )


def test_missing_wsdl_file(tmp_path: Path, breakers: BreakerRegistry) -> None:
    definition = dataset("dan-cu", upstream__wsdl=str(tmp_path / "nope.wsdl"))
    with pytest.raises(DefinitionError, match="upstream.wsdl: file not found"):
        build_connector(definition, env={}, breakers=breakers)


def test_unknown_operation(ministries: DemoMinistries, breakers: BreakerRegistry) -> None:
    with pytest.raises(DefinitionError) as info:
        population(ministries, breakers, upstream__operation="TraCuuHoGiaDinh")
    assert "upstream.operation: the WSDL has no operation TraCuuHoGiaDinh" in str(info.value)
    assert "TraCuuCongDan" in str(info.value)


def test_wsdl_is_loaded_once(ministries: DemoMinistries, breakers: BreakerRegistry) -> None:
    first = population(ministries, breakers)
    second = population(ministries, breakers)
    assert first.client._service is not None  # type: ignore[attr-defined]
    from connectors.soap import load_wsdl

    assert load_wsdl(ministries.population_wsdl) is load_wsdl(ministries.population_wsdl)
    assert second.client is not first.client


def test_raw_soap_headers_when_the_wsdl_does_not_declare_them(
    ministries: DemoMinistries, breakers: BreakerRegistry
) -> None:
    from connectors.demo.population import NAMESPACE

    connector = population(ministries, breakers, upstream__soap_header_namespace=NAMESPACE)
    ctx = Context(request_id="req-raw-1", purpose="2.000001")
    assert connector.fetch(AN, ctx).found
    assert ministries.population_headers.received[-1] == {
        "MaYeuCau": "req-raw-1", "MaThuTuc": "2.000001", "MaDonVi": None, "MaCanBo": None,
    }  # fmt: skip


def test_the_definitions_http_headers_reach_the_ministry(
    breakers: BreakerRegistry, ctx: Context
) -> None:
    from connectors.demo.population import make_population_app
    from connectors.demo.server import serve_app

    population_app = make_population_app()
    seen: list[dict[str, str]] = []

    def recording(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["REQUEST_METHOD"] == "POST":
            seen.append({k: v for k, v in environ.items() if k.startswith(("HTTP_", "CONTENT_"))})
        return population_app(environ, start_response)

    server = serve_app(recording)
    try:
        connector = build_connector(
            dataset(
                "dan-cu",
                upstream__wsdl=server.base_url + "/?wsdl",
                upstream__address=server.base_url + "/",
                upstream__headers={"X-Gateway-Zone": "tinh-01"},
            ),
            env={},
            breakers=breakers,
        )
        assert connector.fetch(AN, ctx).found
        assert connector.fetch(AN, ctx).found
        connector.close()
    finally:
        server.stop()
    assert len(seen) == 2
    for headers in seen:
        assert headers["HTTP_X_GATEWAY_ZONE"] == "tinh-01"
        assert headers["CONTENT_TYPE"].startswith("text/xml")
        assert "HTTP_SOAPACTION" in headers
        assert headers["HTTP_USER_AGENT"].startswith("Zeep/")


def test_a_wsdl_address_that_is_not_http_is_refused(
    ministries: DemoMinistries, breakers: BreakerRegistry, ctx: Context, tmp_path: Path
) -> None:
    import re

    import requests

    wsdl = requests.get(ministries.env["LGSP_DEMO_POPULATION_WSDL"], timeout=10).text
    pinned = tmp_path / "population.wsdl"
    pinned.write_text(re.sub(r'location="[^"]*"', 'location="file:///etc/hostname"', wsdl))
    connector = build_connector(
        dataset("dan-cu", upstream__wsdl=str(pinned)), env={}, breakers=breakers
    )
    with pytest.raises(UpstreamUnavailableError, match="not an http:// or https:// URL"):
        connector.fetch(AN, ctx)

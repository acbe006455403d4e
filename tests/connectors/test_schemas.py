"""Input and output schemas come from the definition alone."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.errors import InvalidParamsError
from connectors.schemas import (
    describe,
    example_record,
    example_request,
    input_json_schema,
    input_schema,
    output_json_schema,
    validate_params,
)
from tests.connectors.conftest import dataset


def test_input_schema_loads_valid_params() -> None:
    schema = input_schema(dataset("dan-cu"))
    loaded = validate_params(
        schema,
        {"so_dinh_danh": "001087012345", "ho_va_ten": "Nguyễn Văn An", "ngay_sinh": "1987-03-15"},
    )
    assert loaded["ngay_sinh"] == dt.date(1987, 3, 15)


def test_input_schema_lists_every_bad_field() -> None:
    schema = input_schema(dataset("dan-cu"))
    with pytest.raises(InvalidParamsError) as info:
        validate_params(schema, {"so_dinh_danh": "12AB", "ngay_sinh": "15/03/1987", "x": 1})
    errors = info.value.errors
    assert set(errors) == {"so_dinh_danh", "ho_va_ten", "ngay_sinh", "x"}
    assert errors["so_dinh_danh"] == ["Does not match the pattern ^[0-9]{12}$."]
    assert errors["ho_va_ten"] == ["Missing data for required field."]
    assert errors["x"] == ["Unknown field."]
    assert info.value.code == "invalid_params" and info.value.origin == "client"
    assert info.value.to_dict()["errors"] == errors


def test_params_must_be_an_object() -> None:
    with pytest.raises(InvalidParamsError) as info:
        validate_params(input_schema(dataset("dan-cu")), ["x"])
    assert info.value.errors == {"params": ["Must be an object."]}


def test_integer_params_are_strict() -> None:
    schema = input_schema(dataset("dan-cu", params={"n": {"type": "integer"}}, request={"n": "N"}))
    assert validate_params(schema, {"n": 3}) == {"n": 3}
    with pytest.raises(InvalidParamsError):
        validate_params(schema, {"n": "3"})


def test_input_json_schema() -> None:
    schema = input_json_schema(dataset("dan-cu"))
    assert schema["required"] == ["so_dinh_danh", "ho_va_ten", "ngay_sinh"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["so_dinh_danh"]["pattern"] == "^[0-9]{12}$"
    assert schema["properties"]["ngay_sinh"] == {
        "type": "string",
        "format": "date",
        "description": "Birth date (YYYY-MM-DD)",
        "x-description-vi": "Ngày sinh (YYYY-MM-DD)",
        "examples": ["1987-03-15"],
    }


def test_output_json_schema_types_and_flags() -> None:
    schema = output_json_schema(dataset("dan-cu"))
    props = schema["properties"]
    assert props["birth_date"]["type"] == ["string", "null"]
    assert props["birth_date"]["format"] == "date"
    assert props["sex"]["enum"] == ["unknown", "male", "female", None]
    assert props["ethnicity"]["x-sensitive"] is True
    assert props["permanent_address"]["type"] == ["object", "null"]
    assert set(props["permanent_address"]["properties"]) == {
        "province_code", "district_code", "ward_code", "detail", "country"
    }  # fmt: skip
    business = output_json_schema(dataset("doanh-nghiep"))["properties"]
    assert business["representatives"]["type"] == "array"
    assert business["representatives"]["items"]["properties"]["birth_date"]["format"] == "date"
    assert business["charter_capital"]["type"] == ["integer", "null"]


def test_output_schema_limited_to_field_set() -> None:
    schema = output_json_schema(dataset("dan-cu"), field_set=["pin", "full_name"])
    assert set(schema["properties"]) == {"pin", "full_name"}


def test_examples_follow_the_schemas() -> None:
    d = dataset("dan-cu")
    assert example_request(d) == {
        "params": {
            "so_dinh_danh": "001087012345",
            "ho_va_ten": "Nguyễn Văn An",
            "ngay_sinh": "1987-03-15",
        }
    }
    record = example_record(d)
    assert set(record) == set(output_json_schema(d)["properties"])
    assert record["sex"] == "unknown"
    validate_params(input_schema(d), example_request(d)["params"])


def test_describe() -> None:
    info = describe(dataset("doanh-nghiep"))
    assert info["id"] == "doanh-nghiep" and info["kind"] == "rest"
    assert {"name": "representatives", "personal": True, "sensitive": False} in info["fields"]
    assert info["example"]["response"]["status"] == "found"

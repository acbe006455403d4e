"""The output schemas: records the connectors map fit both, and both judge alike."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from connectors import (
    BreakerRegistry,
    Context,
    DatasetDefinition,
    UpstreamInvalidResponseError,
    build_connector,
    load_definition,
)
from connectors.demo.business import DEMO_ORGANIZATIONS
from connectors.demo.insurance import insurance_number
from connectors.demo.server import DemoMinistries
from connectors.demo.synthetic import DEMO_CITIZENS, generate_citizens, generate_enterprises
from connectors.schemas import check_record, output_json_schema, output_schema
from tests.connectors.conftest import DATA, DATASETS

DEFINITIONS = sorted([*DATASETS.glob("*.yaml"), *DATA.glob("*/*.yaml")])
# Every 97th synthetic person or firm on top of the named demo ones: varied, and quick.
CITIZENS = [*DEMO_CITIZENS, *generate_citizens()[::97]]
FIRMS = [*DEMO_ORGANIZATIONS, *generate_enterprises()[::97]]
QUERIES: dict[str, list[dict[str, Any]]] = {
    "dan-cu": [
        {"so_dinh_danh": c.pin, "ho_va_ten": c.full_name, "ngay_sinh": c.birth_date.isoformat()}
        for c in CITIZENS
    ],
    "bao-hiem-xa-hoi": [{"ma_so_bhxh": insurance_number(c)} for c in CITIZENS],
    "doanh-nghiep": [{"ma_so_thue": f.tax_code} for f in FIRMS],
    "eu-vies-vat": [{"country_code": "BE", "vat_number": "0123456749"}],
    "thua-dat": [{"ma_tinh": "001", "so_to": 12, "so_thua": 345}],
}


def mapped_records(
    path: Path, ministries: DemoMinistries, hostile: str, ctx: Context
) -> tuple[DatasetDefinition, list[dict[str, Any]]]:
    definition = load_definition(path)
    env = {
        **ministries.env,
        "VIES_ADDRESS": f"{hostile}/soap/vies",
        "LAND_ADDRESS": f"{hostile}/soap/land",
    }
    connector = build_connector(definition, env=env, breakers=BreakerRegistry())
    records = []
    for params in QUERIES[definition.id]:
        result = connector.fetch(params, ctx)
        if result.record is not None:
            records.append(result.record)
    connector.close()
    return definition, records


def full_record_json_schema(definition: DatasetDefinition) -> dict[str, Any]:
    """The published schema, with every top-level field required as in a mapped record."""
    schema = output_json_schema(definition)
    return {**schema, "required": list(schema["properties"])}


def json_validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


WRONG_VALUES: list[Any] = [None, "x", "", "true", 1, 2.5, True, "1987-03-15", "15/03/1987", {}, []]


def mutations(value: Any) -> Iterator[Any]:
    """Copies of `value` with one thing changed: a value replaced, a key removed or added."""
    if isinstance(value, dict):
        yield {**value, "unexpected": "x"}
        for key, inner in value.items():
            yield {k: v for k, v in value.items() if k != key}
            for changed in mutations(inner):
                yield {**value, key: changed}
    elif isinstance(value, list):
        yield [*value, None]
        for i, inner in enumerate(value):
            for changed in mutations(inner):
                yield [*value[:i], changed, *value[i + 1 :]]
    for wrong in WRONG_VALUES:
        if wrong != value or type(wrong) is not type(value):
            yield copy.deepcopy(wrong)


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.stem)
def test_mapped_records_fit_both_schemas_and_both_agree(
    path: Path, ministries: DemoMinistries, hostile: str, ctx: Context
) -> None:
    definition, records = mapped_records(path, ministries, hostile, ctx)
    assert records, f"no demo or recorded answer for {definition.id}"
    schema = output_schema(definition)
    published = json_validator(output_json_schema(definition))
    full = json_validator(full_record_json_schema(definition))
    for record in records:
        assert schema.validate(record) == {}
        published.validate(record)
        full.validate(record)
        assert check_record(schema, record) is record
    # The two schemas are one: whatever one refuses, the other refuses too.
    richest = max(records, key=lambda r: len(repr(r)))
    tried = 0
    for changed in mutations(richest):
        by_marshmallow = not schema.validate(changed)
        by_json_schema = full.is_valid(changed)
        assert by_marshmallow == by_json_schema, changed
        tried += 1
    assert tried > 10 * len(definition.response.fields)


@pytest.mark.parametrize("path", DEFINITIONS, ids=lambda p: p.stem)
def test_json_schema_mirrors_the_marshmallow_schema(path: Path) -> None:
    definition = load_definition(path)

    def walk(fields: dict[str, Any], props: dict[str, Any], required: list[str]) -> None:
        assert list(fields) == list(props)
        assert [n for n, f in fields.items() if f.required] == required
        for name, field in fields.items():
            prop = props[name]
            types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
            assert field.allow_none == ("null" in types), name
            if "object" in types:
                walk(field.schema.fields, prop["properties"], prop["required"])
            if prop["type"] == "array" and prop["items"]["type"] == "object":
                walk(
                    field.inner.schema.fields,
                    prop["items"]["properties"],
                    [*field.inner.schema.fields],
                )

    schema = full_record_json_schema(definition)
    walk(output_schema(definition).fields, schema["properties"], schema["required"])


def test_output_schema_is_built_once_per_definition() -> None:
    definition = load_definition(DATASETS / "dan-cu.yaml")
    assert output_schema(definition) is output_schema(definition)
    assert output_schema(load_definition(DATASETS / "dan-cu.yaml")) is output_schema(definition)


def test_a_record_that_does_not_fit_is_an_invalid_upstream_response() -> None:
    definition = load_definition(DATASETS / "dan-cu.yaml")
    schema = output_schema(definition)
    record = {f.name: None for f in definition.response.fields}
    assert check_record(schema, record) is record
    record = {**record, "sex": "Nam", "permanent_address": {"ward_code": 82}}
    with pytest.raises(UpstreamInvalidResponseError) as info:
        check_record(schema, record)
    message = info.value.message
    assert "sex" in message and "permanent_address.ward_code" in message
    assert "permanent_address.province_code" in message
    # Names of fields only: the values that did not fit may be personal data.
    assert "Nam" not in message and "82" not in message
    assert info.value.code == "upstream_invalid_response"

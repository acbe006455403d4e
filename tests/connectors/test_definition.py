"""Dataset definitions: the shipped files load; mistakes are named by file, field and problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from connectors.definition import (
    load_definition,
    load_definition_text,
    parse_definition,
)
from connectors.errors import DefinitionError
from tests.connectors.conftest import DATA, DATASETS, raw_dataset

SHIPPED = sorted(DATASETS.glob("*.yaml")) + [
    DATA / "vies" / "vies.yaml",
    DATA / "land" / "thua-dat.yaml",
]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_definitions_load_and_round_trip(path: Path) -> None:
    definition = load_definition(path)
    again = load_definition_text(definition.to_yaml(), source="db:1")
    assert again == definition
    assert again.source == "db:1"


def test_population_definition_content() -> None:
    d = load_definition(DATASETS / "dan-cu.yaml")
    assert d.id == "dan-cu"
    assert d.upstream.kind == "soap"
    assert d.title.vi.startswith("Tra cứu")
    assert set(d.sensitive_fields) == {"ethnicity", "religion"}
    assert "pin" in d.personal_fields
    assert d.retry.attempts == 1 and d.retry.idempotent
    assert d.cache_ttl == 0
    assert d.breaker_name == "dan-cu"


def test_relative_wsdl_is_resolved_next_to_the_file() -> None:
    d = load_definition(DATA / "vies" / "vies.yaml")
    assert d.upstream.wsdl == str(DATA / "vies" / "checkVatService.wsdl")  # type: ignore[union-attr]


def _error(raw: Any) -> str:
    with pytest.raises(DefinitionError) as info:
        parse_definition(raw, source="datasets/x.yaml")
    return str(info.value)


def _mutated(name: str, path: str, value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(raw_dataset(name))
    keys = path.split(".")
    target = raw
    for key in keys[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return raw


_DELETE = object()

CASES = [
    ("dan-cu", "upstream.wsdl", _DELETE, "datasets/x.yaml: upstream.wsdl: required"),
    ("dan-cu", "id", "Dân Cư", "datasets/x.yaml: id: must be a lowercase slug"),
    ("dan-cu", "title", {"vi": "x"}, "datasets/x.yaml: title.en: required"),
    ("dan-cu", "upstream.kind", "ftp",
     "datasets/x.yaml: upstream.kind: must be one of: soap, rest"),
    ("dan-cu", "upstream.wsse", {"username_env": "U", "password": "hunter2"},
     "datasets/x.yaml: upstream.wsse.password: literal credentials are not allowed"),
    ("dan-cu", "upstream.wsse", {"username_env": "U", "password_env": "hunter2"},
     "datasets/x.yaml: upstream.wsse.password_env: must name an environment variable"),
    ("doanh-nghiep", "upstream.auth", {"type": "api_key", "api_key": "abc"},
     "datasets/x.yaml: upstream.auth.api_key: literal credentials are not allowed"),
    ("doanh-nghiep", "upstream.headers", {"Authorization": "Bearer abc"},
     "datasets/x.yaml: upstream.headers.Authorization: credentials may not be written"),
    ("doanh-nghiep", "upstream.auth.type", "kerberos",
     "datasets/x.yaml: upstream.auth.type: must be one of: api_key, basic"),
    ("doanh-nghiep", "upstream.path", "/x/{mst}",
     "datasets/x.yaml: upstream.path: placeholder {mst} is not a parameter"),
    ("dan-cu", "upstream.soap_headers", {"mood": "X"},
     "datasets/x.yaml: upstream.soap_headers.mood: unknown context key"),
    ("dan-cu", "params.so_dinh_danh.type", "uuid",
     "datasets/x.yaml: params.so_dinh_danh.type: must be one of: string, date, integer"),
    ("dan-cu", "params.so_dinh_danh.pattern", "([0-9]",
     "datasets/x.yaml: params.so_dinh_danh.pattern: invalid regular expression"),
    ("dan-cu", "params.so_dinh_danh.example", "12345",
     "datasets/x.yaml: params.so_dinh_danh.example: does not match"),
    ("dan-cu", "params.ngay_sinh.example", "15/03/1987",
     "datasets/x.yaml: params.ngay_sinh.example: must be a date YYYY-MM-DD"),
    ("dan-cu", "request.unknown_param", "X",
     "datasets/x.yaml: request.unknown_param: is not a declared parameter"),
    ("dan-cu", "response.fields.sex.values", _DELETE,
     "datasets/x.yaml: response.fields.sex.values: an enum needs values"),
    ("dan-cu", "response.fields.sex.type", "color",
     "datasets/x.yaml: response.fields.sex.type: must be one of"),
    ("dan-cu", "response.fields.sex.colour", "red",
     "datasets/x.yaml: response.fields.sex.colour: unknown key"),
    ("dan-cu", "response.fields.permanent_address.fields", _DELETE,
     "datasets/x.yaml: response.fields.permanent_address.fields: required"),
    ("dan-cu", "response.fields.birth_date.join", ["Nam"],
     "datasets/x.yaml: response.fields.birth_date.join: a date joins exactly 3 paths"),
    ("dan-cu", "response.not_found", [{"path": "MaKetQua"}],
     "datasets/x.yaml: response.not_found.0: a rule with a path needs empty: true or equals"),
    ("dan-cu", "cache_ttl", 60,
     "datasets/x.yaml: cache_ttl: must be 0 for a dataset with personal fields"),
    ("dan-cu", "timeout", {"connect": "fast"},
     "datasets/x.yaml: timeout.connect: must be a number, not a string"),
    ("dan-cu", "timeout", {"read": 10, "total": 5},
     "datasets/x.yaml: timeout.total: must be at least timeout.read"),
    ("doanh-nghiep", "upstream.method", "DELETE",
     "datasets/x.yaml: upstream.method: must be one of: GET, POST"),
    ("doanh-nghiep", "upstream.base_url", "ftp://x",
     "datasets/x.yaml: upstream.base_url: must be an http:// or https:// URL"),
    ("dan-cu", "retry", {"attempts": 2, "idempotent": False},
     "datasets/x.yaml: retry.attempts: must be 0 when the lookup is not idempotent"),
    ("dan-cu", "breaker", {"failure_threshold": 0},
     "datasets/x.yaml: breaker.failure_threshold: must be at least 1"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "path", "value", "expected"), CASES)
def test_invalid_definitions_are_named_precisely(
    name: str, path: str, value: Any, expected: str
) -> None:
    assert _error(_mutated(name, path, value)).startswith(expected)


def test_personal_data_may_be_cached_only_when_declared() -> None:
    raw = raw_dataset("dan-cu")
    raw.update(cache_ttl=60, cache_personal=True)
    assert parse_definition(raw).cache_ttl == 60


def test_top_level_must_be_a_mapping() -> None:
    assert _error(["id"]) == "datasets/x.yaml: must be a mapping, not a list"


def test_yaml_syntax_error_names_line() -> None:
    with pytest.raises(DefinitionError, match=r"db:7: invalid YAML: line 2, column"):
        load_definition_text("id: x\n  title: : [\n", source="db:7")


def test_missing_file() -> None:
    with pytest.raises(DefinitionError, match="cannot read file"):
        load_definition("/nonexistent/x.yaml")


def test_env_placeholders_resolve_from_the_given_env_only() -> None:
    d = load_definition(DATASETS / "dan-cu.yaml")
    with pytest.raises(DefinitionError) as info:
        d.resolve({})
    assert str(info.value) == (
        f"{DATASETS / 'dan-cu.yaml'}: upstream.wsdl: "
        "environment variable LGSP_DEMO_POPULATION_WSDL is not set"
    )
    resolved = d.resolve({"LGSP_DEMO_POPULATION_WSDL": "http://x/?wsdl"})
    assert resolved.upstream.wsdl == "http://x/?wsdl"  # type: ignore[union-attr]


def test_env_placeholder_default() -> None:
    d = load_definition(DATA / "vies" / "vies.yaml").resolve({})
    assert d.upstream.address.startswith("https://ec.europa.eu/")  # type: ignore[union-attr]


def test_definition_error_attributes() -> None:
    raw = _mutated("dan-cu", "upstream.wsdl", _DELETE)
    with pytest.raises(DefinitionError) as info:
        parse_definition(raw, source="datasets/x.yaml")
    err = info.value
    assert (err.file, err.path, err.problem) == ("datasets/x.yaml", "upstream.wsdl", "required")
    assert err.code == "invalid_definition" and err.origin == "hub"

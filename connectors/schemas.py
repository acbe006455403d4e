"""Input and output schemas (marshmallow and JSON Schema 2020-12) derived from a definition."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from connectors.checks import CHECKS
from connectors.definition import DatasetDefinition, Field, Param
from connectors.errors import InvalidParamsError, UpstreamInvalidResponseError

JSON_TYPES = {
    "string": "string",
    "date": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
}


class _Pattern(validate.Validator):
    """JSON Schema `pattern` semantics (re.search), so both schemas accept the same input."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.regex = re.compile(pattern)

    def __call__(self, value: Any) -> Any:
        if not self.regex.search(value):
            raise ValidationError(f"Does not match the pattern {self.pattern}.")
        return value


class _Check(validate.Validator):
    """A check-digit rule (connectors.checks), run after the pattern."""

    def __init__(self, predicate: Callable[[str], bool], message: str) -> None:
        self.predicate = predicate
        self.message = message

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and not self.predicate(value):
            raise ValidationError(self.message)
        return value


def _mm_field(p: Param) -> fields.Field:
    validators: list[Any] = []
    if p.pattern is not None:
        validators.append(_Pattern(p.pattern))
    if p.max_length is not None:
        validators.append(validate.Length(max=p.max_length))
    if p.check is not None:
        predicate, message = CHECKS[p.check]
        validators.append(_Check(predicate, message))
    if p.type == "date":
        return fields.Date(required=p.required, format="iso")
    if p.type == "integer":
        return fields.Integer(required=p.required, strict=True)
    return fields.String(required=p.required, validate=validators)


def input_schema(definition: DatasetDefinition) -> Schema:
    """Return a marshmallow schema that validates the query params (unknown ones refused)."""
    declared: dict[str, fields.Field] = {p.name: _mm_field(p) for p in definition.params}
    cls = Schema.from_dict(declared, name=f"Params_{definition.id.replace('-', '_')}")
    return cls(unknown=RAISE)


def validate_params(schema: Schema, params: Any) -> dict[str, Any]:
    """Load `params` with `schema`, raising InvalidParamsError listing each bad field."""
    if not isinstance(params, Mapping):
        raise InvalidParamsError({"params": ["Must be an object."]})
    try:
        return dict(schema.load(dict(params)))
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"params": exc.messages}
        errors: dict[str, list[str]] = {}
        for key, value in messages.items():
            errors[str(key)] = [str(m) for m in (value if isinstance(value, list) else [value])]
        raise InvalidParamsError(errors) from exc


def input_json_schema(definition: DatasetDefinition) -> dict[str, Any]:
    """Return the JSON Schema of the `params` object."""
    props: dict[str, Any] = {}
    for p in definition.params:
        prop: dict[str, Any] = {"type": JSON_TYPES[p.type]}
        if p.type == "date":
            prop["format"] = "date"
        if p.pattern is not None:
            prop["pattern"] = p.pattern
        if p.max_length is not None:
            prop["maxLength"] = p.max_length
        if p.check is not None:
            prop["x-check"] = p.check
        if p.description is not None:
            prop["description"] = p.description.en
            prop["x-description-vi"] = p.description.vi
        if p.example is not None:
            prop["examples"] = [p.example]
        props[p.name] = prop
    return {
        "type": "object",
        "properties": props,
        "required": [p.name for p in definition.params if p.required],
        "additionalProperties": False,
    }


class _Number(fields.Float):
    """A JSON number as it is (fields.Float would also take the text "1.5")."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class _Boolean(fields.Boolean):
    """A JSON boolean as it is (fields.Boolean would also take "yes" or 1)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _annotations(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if f.description is not None:
        out["description"] = f.description.en
        out["x-description-vi"] = f.description.vi
    if f.personal:
        out["x-personal"] = True
    if f.sensitive:
        out["x-sensitive"] = True
    return out


def _out_field(f: Field) -> fields.Field:
    # Every field is in the mapped record; all but lists may be null (absent upstream).
    meta = _annotations(f)
    if f.type == "list":
        inner = fields.Nested(_record_schema(f.fields)) if f.fields else fields.String()
        return fields.List(inner, required=True, metadata=meta)
    opts: dict[str, Any] = {"required": True, "allow_none": True, "metadata": meta}
    if f.type == "object":
        return fields.Nested(_record_schema(f.fields), **opts)
    if f.type == "enum":
        readable = list(dict.fromkeys(v for _, v in f.values))
        return fields.String(validate=validate.OneOf(readable), **opts)
    if f.type == "date":
        return fields.Date(format="iso", **opts)
    if f.type == "integer":
        return fields.Integer(strict=True, **opts)
    if f.type == "number":
        return _Number(**opts)
    if f.type == "boolean":
        return _Boolean(**opts)
    return fields.String(**opts)


def _record_schema(field_list: Iterable[Field], name: str = "Record") -> Schema:
    declared = {f.name: _out_field(f) for f in field_list}
    return Schema.from_dict(declared, name=name)(unknown=RAISE)


@functools.lru_cache(maxsize=256)
def output_schema(definition: DatasetDefinition) -> Schema:
    """Return the marshmallow schema of a mapped record (every field present, none extra)."""
    name = f"Record_{definition.id.replace('-', '_')}"
    return _record_schema(definition.response.fields, name)


def check_record(schema: Schema, record: dict[str, Any]) -> dict[str, Any]:
    """Return `record` if it fits `schema`, else raise UpstreamInvalidResponseError."""
    errors = schema.validate(record)
    if errors:
        # Field names only: the messages could echo the personal data that did not fit.
        names = ", ".join(_error_paths(errors))
        raise UpstreamInvalidResponseError(
            f"The upstream answer does not fit the dataset definition (fields: {names})."
        )
    return record


def _error_paths(errors: Mapping[Any, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in errors.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_error_paths(value, f"{path}."))
        else:
            out.append(path)
    return out


def _field_json_schema(field: fields.Field) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(field, fields.Nested):
        out = _object_json_schema(field.schema)
    elif isinstance(field, fields.List):
        out = {"type": "array", "items": _field_json_schema(field.inner)}
    else:
        out = {"type": next(t for cls, t in _JSON_TYPE_OF.items() if isinstance(field, cls))}
        if isinstance(field, fields.Date):
            out["format"] = "date"
        for v in field.validators:
            if isinstance(v, validate.OneOf):
                out["enum"] = list(v.choices)
    if field.allow_none:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"].append(None)
    out.update(field.metadata)
    return out


_JSON_TYPE_OF: dict[type[fields.Field], str] = {
    fields.String: "string",
    fields.Date: "string",
    fields.Integer: "integer",
    fields.Float: "number",
    fields.Boolean: "boolean",
}


def _object_json_schema(schema: Schema) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: _field_json_schema(f) for name, f in schema.fields.items()},
        "required": [name for name, f in schema.fields.items() if f.required],
        "additionalProperties": schema.unknown != RAISE,
    }


def output_json_schema(
    definition: DatasetDefinition, field_set: Iterable[str] | None = None
) -> dict[str, Any]:
    """Return the JSON Schema of the `data` record (from output_schema), maybe for `field_set`."""
    schema = _object_json_schema(output_schema(definition))
    if field_set is not None:
        wanted = set(field_set)
        schema["properties"] = {k: v for k, v in schema["properties"].items() if k in wanted}
    # Withheld fields are left out of the record, so none is required of a caller's view.
    schema["required"] = []
    return schema


def _example_value(f: Field) -> Any:
    if f.type == "object":
        return {c.name: _example_value(c) for c in f.fields}
    if f.type == "list":
        return [{c.name: _example_value(c) for c in f.fields}] if f.fields else ["…"]
    if f.type == "enum":
        return f.values[0][1]
    return {
        "string": "…",
        "date": "2000-01-31",
        "integer": 0,
        "number": 0.0,
        "boolean": True,
    }[f.type]


def example_request(definition: DatasetDefinition) -> dict[str, Any]:
    """Return an example body for POST /api/v1/datasets/{id}/query."""
    params: dict[str, Any] = {}
    for p in definition.params:
        if p.example is not None:
            params[p.name] = p.example
        elif p.required:
            params[p.name] = {"date": "2000-01-31", "integer": 1}.get(p.type, "…")
    return {"params": params}


def example_record(definition: DatasetDefinition) -> dict[str, Any]:
    """Return an example `data` record with every field."""
    return {f.name: _example_value(f) for f in definition.response.fields}


def describe(definition: DatasetDefinition) -> dict[str, Any]:
    """Return the catalogue description: texts, owner, schemas and examples."""
    return {
        "id": definition.id,
        "version": definition.version,
        "title": definition.title.to_dict(),
        "description": definition.description.to_dict(),
        "owner": definition.owner.to_dict(),
        "kind": definition.upstream.kind,
        "fields": [
            {
                "name": f.name,
                "personal": f.is_personal,
                "sensitive": f.name in definition.sensitive_fields,
            }
            for f in definition.response.fields
        ],
        "input_schema": input_json_schema(definition),
        "output_schema": output_json_schema(definition),
        "example": {
            "request": example_request(definition),
            "response": {"status": "found", "data": example_record(definition)},
        },
    }

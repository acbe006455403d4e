"""Turn an upstream answer (zeep's serialized object or decoded JSON) into the output record."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from connectors.definition import Field, NotFoundRule, ResponseSpec
from connectors.errors import UpstreamInvalidResponseError

_MISSING = object()
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y")


def to_plain(value: Any) -> Any:
    """Return `value` as plain dicts/lists/scalars (zeep objects, OrderedDicts, Decimals)."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def lookup(data: Any, path: str) -> Any:
    """Follow a dotted path (names, and integers as list indexes); return _MISSING if absent."""
    if not path:
        return data
    current = data
    for part in path.split("."):
        if current is None:
            return _MISSING
        if isinstance(current, list):
            if part.isdigit():
                index = int(part)
                if index >= len(current):
                    return _MISSING
                current = current[index]
                continue
            # A single element the service sometimes returns as a one-item list.
            if len(current) == 1:
                current = current[0]
            else:
                return _MISSING
        if not isinstance(current, Mapping):
            return _MISSING
        if part not in current:
            return _MISSING
        current = current[part]
    return current


def is_empty(value: Any) -> bool:
    """True for missing, None, empty strings and empty collections."""
    return (
        value is _MISSING
        or value is None
        or (isinstance(value, (str, list, dict, tuple)) and len(value) == 0)
    )


def matches_not_found(answer: Any, rules: tuple[NotFoundRule, ...]) -> bool:
    """True when any path rule says the answer means "no data"."""
    for rule in rules:
        if rule.path is None:
            continue
        value = lookup(answer, rule.path)
        if rule.empty and is_empty(value):
            return True
        if rule.equals is not None and value is not _MISSING and _text(value) == rule.equals:
            return True
    return False


def _text(value: Any) -> str:
    # YAML authors write booleans as the XML does: "true"/"false".
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def map_response(answer: Any, spec: ResponseSpec) -> dict[str, Any] | None:
    """Return the normalised record, or None when the answer means "no data"."""
    answer = to_plain(answer)
    if matches_not_found(answer, spec.not_found):
        return None
    root = lookup(answer, spec.root)
    if is_empty(root):
        return None
    if isinstance(root, list):
        root = root[0]
    if not isinstance(root, Mapping):
        raise UpstreamInvalidResponseError(
            f"The upstream answer has no record at {spec.root or 'the top level'}."
        )
    return map_fields(root, spec.fields)


def map_fields(data: Mapping[str, Any], fields: tuple[Field, ...]) -> dict[str, Any]:
    """Map one upstream object to a record with the given fields."""
    return {f.name: _convert(f, lookup(data, f.path)) for f in fields}


def _convert(f: Field, value: Any) -> Any:
    if f.join:
        if is_empty(value):
            return None
        parts = [lookup(value, p) for p in f.join]
        if f.type == "date":
            return _date_from_parts(f, parts)
        text = " ".join(str(p).strip() for p in parts if not is_empty(p))
        return text or None
    if f.type == "list":
        if is_empty(value):
            return []
        items = value if isinstance(value, list) else [value]
        if f.fields:
            return [
                map_fields(_as_mapping(f, item), f.fields) for item in items if not is_empty(item)
            ]
        return [_scalar(f, "string", item) for item in items if not is_empty(item)]
    if value is _MISSING or value is None:
        return None
    if f.type == "object":
        return map_fields(_as_mapping(f, value), f.fields)
    return _scalar(f, f.type, value)


def _as_mapping(f: Field, value: Any) -> Mapping[str, Any]:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, Mapping):
        raise UpstreamInvalidResponseError(
            f"The upstream answer has no object at {f.path} (for field {f.name})."
        )
    return value


def _scalar(f: Field, ftype: str, value: Any) -> Any:
    if isinstance(value, (Mapping, list)):
        raise UpstreamInvalidResponseError(
            f"The upstream answer has a structure where field {f.name} expects a value."
        )
    try:
        if ftype == "string":
            return value if isinstance(value, str) else str(value)
        if ftype == "integer":
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if ftype == "number":
            return float(value)
        if ftype == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes"):
                return True
            if text in ("false", "0", "no"):
                return False
            raise ValueError(value)
        if ftype == "date":
            return _date(value)
        if ftype == "enum":
            # Unknown codes become null rather than an error: registries add codes over time.
            return dict(f.values).get(str(value).strip())
    except (ValueError, TypeError) as exc:
        raise UpstreamInvalidResponseError(
            f"The upstream answer has an invalid {ftype} for field {f.name}."
        ) from exc
    raise UpstreamInvalidResponseError(f"Unsupported field type {ftype}.")


def _date_from_parts(f: Field, parts: list[Any]) -> str | None:
    # A registry may know only the birth year; a partial date is no date.
    if any(is_empty(p) for p in parts):
        return None
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
    except (TypeError, ValueError) as exc:
        raise UpstreamInvalidResponseError(
            f"The upstream answer has an invalid date for field {f.name}."
        ) from exc


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    # xsd:date may carry a timezone (e.g. VIES answers 2024-05-01+02:00).
    if len(text) > 10 and text[4] == "-" and text[10] in "+-Z":
        text = text[:10]
    if "T" in text:
        text = text.split("T", 1)[0]
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(text)


def set_path(target: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at a dotted path in nested dicts, creating the intermediate levels."""
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value

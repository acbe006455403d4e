"""SQL of the datasets domain: plain parameterised statements; never commits."""

from __future__ import annotations

from typing import Any

from hub.datasets.models import Dataset
from hub.db import Connection, execute, fetch_all, fetch_one, fetch_one_prepared, json_param
from hub.errors import NotFoundError


class UnknownDatasetError(NotFoundError):
    """There is no dataset with this id."""

    code = "unknown_dataset"
    title = "Unknown dataset"


_COLUMNS = (
    "d.id, d.enabled, d.current_version, d.created_at,"
    " v.definition, v.checksum, v.loaded_at, v.loaded_by"
)
_FROM = (
    " FROM datasets d"
    " JOIN dataset_versions v ON v.dataset_id = d.id AND v.version = d.current_version"
)
_SELECT_DATASETS = f"SELECT {_COLUMNS}{_FROM}"


def _dataset(row: dict[str, Any]) -> Dataset:
    return Dataset(**row)


def get(conn: Connection, dataset_id: str) -> Dataset:
    """Return the dataset with its current definition, or raise UnknownDatasetError."""
    found = find_by_id(conn, dataset_id)
    if found is None:
        raise UnknownDatasetError(f"There is no dataset {dataset_id!r}.", dataset=dataset_id)
    return found


def get_with(
    conn: Connection, dataset_id: str, also: tuple[str, dict[str, Any]] | None
) -> tuple[Dataset, Any]:
    """Like ``get``, and in the same round trip the value of ``also``: a scalar SQL
    expression with its named parameters (how a query policy reads its rules)."""
    if also is None:
        also = ("NULL", {})
    expression, params = also
    row = fetch_one_prepared(
        conn,
        # `expression` is SQL written by the hub (never user input); its values are bound.
        f"SELECT {_COLUMNS}, ({expression}) AS also{_FROM} WHERE d.id = %(id)s",  # noqa: S608
        {**params, "id": dataset_id},
    )
    if row is None:
        raise UnknownDatasetError(f"There is no dataset {dataset_id!r}.", dataset=dataset_id)
    also_value = row.pop("also")
    return _dataset(row), also_value


def find_by_id(conn: Connection, dataset_id: str) -> Dataset | None:
    """Return the dataset with its current definition, or None."""
    row = fetch_one(conn, _SELECT_DATASETS + " WHERE d.id = %(id)s", {"id": dataset_id})
    return _dataset(row) if row else None


def list_datasets(conn: Connection, *, enabled_only: bool = False) -> list[Dataset]:
    """Return every dataset (or only the enabled ones) with its current definition, by id."""
    where = " WHERE d.enabled" if enabled_only else ""
    return [_dataset(r) for r in fetch_all(conn, _SELECT_DATASETS + where + " ORDER BY d.id")]


def lock(conn: Connection, dataset_id: str) -> None:
    """Serialise concurrent loads of one dataset id until the transaction ends."""
    execute(
        conn,
        "SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0))",
        {"key": f"dataset:{dataset_id}"},
    )


def latest_version(conn: Connection, dataset_id: str) -> int:
    """Return the highest stored version number of a dataset (0 when none)."""
    row = fetch_one(
        conn,
        "SELECT coalesce(max(version), 0) AS v FROM dataset_versions WHERE dataset_id = %(id)s",
        {"id": dataset_id},
    )
    return int(row["v"]) if row else 0


def insert_version(
    conn: Connection,
    *,
    dataset_id: str,
    version: int,
    definition: dict[str, Any],
    source_yaml: str,
    checksum: str,
    loaded_by: str,
) -> None:
    """Insert a version, creating the dataset (enabled) or pointing it at the new version."""
    execute(
        conn,
        """
        INSERT INTO datasets (id, current_version) VALUES (%(id)s, %(version)s)
        ON CONFLICT (id) DO UPDATE
            SET current_version = EXCLUDED.current_version, updated_at = now()
        """,
        {"id": dataset_id, "version": version},
    )
    execute(
        conn,
        """
        INSERT INTO dataset_versions
            (dataset_id, version, definition, source_yaml, checksum, loaded_by)
        VALUES (%(id)s, %(version)s, %(definition)s, %(source)s, %(checksum)s, %(by)s)
        """,
        {
            "id": dataset_id,
            "version": version,
            "definition": json_param(definition),
            "source": source_yaml,
            "checksum": checksum,
            "by": loaded_by,
        },
    )


def update_enabled(conn: Connection, dataset_id: str, enabled: bool) -> bool:
    """Enable or disable a dataset; return False when there is no such dataset."""
    return (
        execute(
            conn,
            "UPDATE datasets SET enabled = %(enabled)s, updated_at = now() WHERE id = %(id)s",
            {"id": dataset_id, "enabled": enabled},
        )
        == 1
    )

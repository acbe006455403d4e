"""Rows and values of the datasets domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Dataset:
    """A dataset and its current version's definition."""

    id: str
    enabled: bool
    current_version: int
    created_at: datetime
    definition: dict[str, Any]
    checksum: str
    loaded_at: datetime
    loaded_by: str


@dataclass(frozen=True)
class LoadResult:
    """What loading a definition did: a new version, or nothing because it was unchanged."""

    dataset_id: str
    version: int
    created: bool
    checksum: str


@dataclass(frozen=True)
class Caller:
    """Who queries a dataset and why (from the access token and the request headers)."""

    client_id: str
    scopes: frozenset[str]
    purpose: str
    request_id: str
    official_id: str | None = None
    account_id: str | None = None
    subject: str | None = None


@dataclass(frozen=True)
class FieldDecision:
    """Which top-level output fields a caller may receive (None: all) and which are withheld."""

    permitted: frozenset[str] | None = None
    withheld: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryAnswer:
    """The uniform answer of POST /api/v1/datasets/{id}/query."""

    status: str
    data: dict[str, Any] | None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body."""
        return {"status": self.status, "data": self.data, "meta": self.meta}

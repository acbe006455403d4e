"""Rows and values of the datasets domain."""

from __future__ import annotations

from collections.abc import Mapping
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
    purpose: str | None
    request_id: str
    official_id: str | None = None
    account_id: str | None = None
    subject: str | None = None
    organization: str | None = None


@dataclass(frozen=True)
class FieldDecision:
    """What a policy allows a query: the top-level fields (None: all), the withheld ones,
    the params to send (None: as given; a policy may fill in the data subject), and the
    policy's own notes for its record of the query."""

    permitted: frozenset[str] | None = None
    withheld: tuple[str, ...] = ()
    params: Mapping[str, Any] | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryOutcome:
    """How a query ended: found, not_found, refused (by the hub's rules) or failed."""

    outcome: str
    error_code: str | None = None
    fields: tuple[str, ...] = ()
    upstream_ms: float | None = None
    cached: bool | None = None


@dataclass(frozen=True)
class QueryAnswer:
    """The uniform answer of POST /api/v1/datasets/{id}/query."""

    status: str
    data: dict[str, Any] | None
    meta: dict[str, Any] = field(default_factory=dict)
    upstream_ms: float | None = None  # time spent waiting for the upstream (not in the body)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON body."""
        return {"status": self.status, "data": self.data, "meta": self.meta}

"""The connector interface: a validated request in, a normalised record (or "no data") out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.definition import DatasetDefinition


@dataclass(frozen=True)
class Context:
    """Who asks and why; forwarded to upstreams that expect it (e.g. population lookups)."""

    request_id: str
    purpose: str | None = None
    calling_agency: str | None = None
    official_id: str | None = None

    def get(self, key: str) -> str | None:
        """Return the context value named `key` (request_id, purpose, calling_agency, ...)."""
        value = getattr(self, key)
        return None if value is None else str(value)


@dataclass(frozen=True)
class Result:
    """The outcome of one lookup."""

    found: bool
    record: dict[str, Any] | None
    upstream_ms: float
    source: str
    cached: bool = False
    # When the upstream answered (a cached result keeps the time of the answer it repeats).
    retrieved_at: datetime | None = None


class Connector(ABC):
    """Turns request parameters into an upstream call and a normalised record."""

    definition: DatasetDefinition

    @abstractmethod
    def fetch(
        self,
        params: Mapping[str, Any],
        ctx: Context,
        *,
        field_set: Iterable[str] | None = None,
    ) -> Result:
        """Validate `params`, query the upstream and return the record limited to `field_set`."""


class UpstreamClient(ABC):
    """One upstream call, without retries, breaker or cache (those wrap it)."""

    @property
    @abstractmethod
    def source(self) -> str:
        """Return a short description of the upstream (endpoint URL)."""

    @abstractmethod
    def call(
        self, params: Mapping[str, Any], ctx: Context, *, deadline: float
    ) -> dict[str, Any] | None:
        """Call the upstream once before `deadline` (time.monotonic); None means "no data"."""

    def close(self) -> None:  # noqa: B027 - optional hook, most clients need nothing
        """Release pooled connections."""

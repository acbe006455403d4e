"""Audit records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    """What a caller asks to be recorded; the chain adds seq, time and hashes."""

    kind: str
    outcome: str
    request_id: str | None = None
    client_id: str | None = None
    actor: str | None = None
    official_id: str | None = None
    organization: str | None = None
    subject_hash: str | None = None
    dataset_id: str | None = None
    dataset_version: int | None = None
    purpose: str | None = None
    fields: tuple[str, ...] = ()
    error_code: str | None = None
    upstream_ms: int | None = None
    cache_hit: bool | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRecord:
    """A stored audit record."""

    seq: int
    at: datetime
    kind: str
    outcome: str
    request_id: str | None
    client_id: str | None
    actor: str | None
    official_id: str | None
    organization: str | None
    subject_hash: str | None
    dataset_id: str | None
    dataset_version: int | None
    purpose: str | None
    fields: tuple[str, ...]
    error_code: str | None
    upstream_ms: int | None
    cache_hit: bool | None
    detail: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class Verification:
    """The outcome of checking the whole chain."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Anchor:
    """A chain head recorded outside the database: the record ``seq`` had hash ``hash``."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


@dataclass(frozen=True)
class Head:
    """The chain head as read, the time of its record, and what is wrong with it, if anything."""

    anchor: Anchor
    at: datetime | None = None
    problem: str | None = None


@dataclass(frozen=True)
class AuditQuery:
    """Filters of an audit search; each one is compared as a value, never spliced into SQL."""

    client_id: str | None = None
    dataset_id: str | None = None
    purpose: str | None = None
    outcome: str | None = None
    kind: str | None = None
    error_code: str | None = None
    request_id: str | None = None
    subject_hash: str | None = None
    since: datetime | None = None
    until: datetime | None = None

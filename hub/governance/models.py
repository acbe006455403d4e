"""Rows and values of the governance domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ANY_PURPOSE = "any"


@dataclass(frozen=True)
class Principal:
    """Who acts: a signed-in account with its roles, or the operator at the command line."""

    actor: str
    account_id: str | None = None
    roles: frozenset[str] = frozenset()
    owner_agencies: frozenset[str] = frozenset()
    level: int | None = None
    client_id: str | None = None

    @property
    def is_admin(self) -> bool:
        """A platform administrator signed in at level 2 (or the operator)."""
        return self.account_id is None or ("admin" in self.roles and self.level == 2)

    @property
    def is_operator(self) -> bool:
        """The operator at the command line (no account)."""
        return self.account_id is None

    @classmethod
    def operator(cls, name: str = "cli") -> Principal:
        """The person running ``lgsp`` on the server: every right, recorded by name."""
        return cls(actor=name)


@dataclass(frozen=True)
class Grant:
    """A client's permission to query a dataset for some purposes and fields."""

    id: str
    client_id: str
    dataset_id: str
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    any_purpose: bool
    legal_basis: str
    valid_from: datetime
    valid_until: datetime | None
    daily_quota: int | None
    access_request_id: str | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Grant:
        """Build a grant from a ``grants`` row."""
        return cls(
            **{
                **row,
                "id": str(row["id"]),
                "fields": tuple(row["fields"]),
                "purposes": tuple(row["purposes"]),
                "access_request_id": (
                    str(row["access_request_id"]) if row["access_request_id"] else None
                ),
            }
        )

    def state(self, now: datetime) -> str:
        """active, pending (not yet valid), expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.valid_until is not None and self.valid_until <= now:
            return "expired"
        if self.valid_from > now:
            return "pending"
        return "active"

    def permits_purpose(self, purpose: str | None) -> bool:
        """True when the grant allows this procedure code."""
        return self.any_purpose or (purpose is not None and purpose in self.purposes)

    def to_dict(self, now: datetime) -> dict[str, Any]:
        """The grant as JSON."""
        return {
            "id": self.id,
            "client_id": self.client_id,
            "dataset_id": self.dataset_id,
            "fields": list(self.fields),
            "purposes": [ANY_PURPOSE] if self.any_purpose else list(self.purposes),
            "legal_basis": self.legal_basis,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "daily_quota": self.daily_quota,
            "access_request_id": self.access_request_id,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_by": self.revoked_by,
            "revoke_reason": self.revoke_reason,
            "state": self.state(now),
        }


@dataclass(frozen=True)
class Subject:
    """How a dataset's data subject is named in its params (for on-behalf queries)."""

    dataset_id: str
    kind: str  # person | organization
    params: dict[str, str]  # param name -> account attribute (pin, full_name, birth_date, tax_code)


@dataclass(frozen=True)
class DataConsent:
    """A citizen's consent for an app to receive some fields of his record for a purpose."""

    id: str
    account_id: str
    client_id: str
    dataset_id: str
    purpose: str
    fields: tuple[str, ...]
    text_shown: str
    granted_at: datetime
    withdrawn_at: datetime | None
    client_name: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DataConsent:
        """Build a consent from a ``data_consents`` row (client_name optional)."""
        return cls(
            id=str(row["id"]),
            account_id=str(row["account_id"]),
            client_id=row["client_id"],
            dataset_id=row["dataset_id"],
            purpose=row["purpose"],
            fields=tuple(row["fields"]),
            text_shown=row["text_shown"],
            granted_at=row["granted_at"],
            withdrawn_at=row["withdrawn_at"],
            client_name=row.get("client_name"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The consent as JSON."""
        return {
            "id": self.id,
            "client_id": self.client_id,
            "client_name": self.client_name,
            "dataset_id": self.dataset_id,
            "purpose": self.purpose,
            "fields": list(self.fields),
            "text_shown": self.text_shown,
            "granted_at": self.granted_at.isoformat(),
            "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None,
        }


@dataclass(frozen=True)
class AccessRequestEvent:
    """One step in the life of an access request."""

    at: datetime
    kind: str
    actor: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON."""
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "actor": self.actor,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class AccessRequest:
    """A developer's request for a dataset, and the data owner's answer."""

    id: str
    client_id: str
    dataset_id: str
    fields: tuple[str, ...]
    purposes: tuple[str, ...]
    any_purpose: bool
    legal_basis: str
    justification: str
    contact: str
    requested_by: str
    requester_account_id: str | None
    status: str
    submitted_at: datetime
    due_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    grant_id: str | None
    events: tuple[AccessRequestEvent, ...] = field(default=())

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AccessRequest:
        """Build a request from an ``access_requests`` row."""
        return cls(
            **{
                **row,
                "id": str(row["id"]),
                "fields": tuple(row["fields"]),
                "purposes": tuple(row["purposes"]),
                "requester_account_id": (
                    str(row["requester_account_id"]) if row["requester_account_id"] else None
                ),
                "grant_id": str(row["grant_id"]) if row["grant_id"] else None,
            }
        )

    def is_overdue(self, now: datetime) -> bool:
        """True when still pending after its due time."""
        return self.status == "pending" and now > self.due_at

    def to_dict(self, now: datetime) -> dict[str, Any]:
        """The request as JSON (with its events when loaded)."""
        return {
            "id": self.id,
            "client_id": self.client_id,
            "dataset_id": self.dataset_id,
            "fields": list(self.fields),
            "purposes": [ANY_PURPOSE] if self.any_purpose else list(self.purposes),
            "legal_basis": self.legal_basis,
            "justification": self.justification,
            "contact": self.contact,
            "requested_by": self.requested_by,
            "status": self.status,
            "overdue": self.is_overdue(now),
            "submitted_at": self.submitted_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decided_by": self.decided_by,
            "decision_reason": self.decision_reason,
            "grant_id": self.grant_id,
            "events": [e.to_dict() for e in self.events],
        }


@dataclass(frozen=True)
class DataAccess:
    """One access to a citizen's data, as shown to him ("who used my data")."""

    at: datetime
    client_id: str | None
    client_name: str | None
    dataset_id: str | None
    dataset_title: str | None
    purpose: str | None
    purpose_name: str | None
    fields: tuple[str, ...]
    on_behalf: bool
    official_id: str | None

    def to_dict(self) -> dict[str, Any]:
        """The access as JSON."""
        return {
            "at": self.at.isoformat(),
            "client_id": self.client_id,
            "client_name": self.client_name,
            "dataset_id": self.dataset_id,
            "dataset_title": self.dataset_title,
            "purpose": self.purpose,
            "purpose_name": self.purpose_name,
            "fields": list(self.fields),
            "on_behalf": self.on_behalf,
            "official_id": self.official_id,
        }

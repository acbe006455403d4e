"""Organizations and memberships as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MEMBER_ROLES = ("representative", "staff")


@dataclass(frozen=True)
class Organization:
    """An organization known by its tax code."""

    id: str
    tax_code: str
    name_vi: str
    name_en: str | None
    address: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Organization:
        """Build an organization from an ``organizations`` row."""
        return cls(
            id=str(row["id"]),
            tax_code=row["tax_code"],
            name_vi=row["name_vi"],
            name_en=row["name_en"],
            address=row["address"],
            created_at=row["created_at"],
        )


@dataclass(frozen=True)
class Membership:
    """That an account may act for an organization, in a role, possibly until a time."""

    organization_id: str
    tax_code: str
    name: str
    role: str
    expires_at: datetime | None

"""Citizen accounts as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

ROLES = ("admin", "data_owner", "auditor", "developer")


@dataclass(frozen=True)
class Account:
    """A citizen's hub account (never exposes the password hash or TOTP secret)."""

    id: str
    pin: str
    full_name: str
    birth_date: date | None
    sex: str | None
    email: str | None
    phone: str | None
    level: int
    mfa_enabled: bool
    roles: tuple[str, ...]
    created_at: datetime

    @property
    def masked_pin(self) -> str:
        """The PIN with its middle digits hidden, e.g. ``001******345``."""
        return self.pin[:3] + "*" * 6 + self.pin[-3:]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Account:
        """Build an account from an ``accounts`` row."""
        return cls(
            id=str(row["id"]),
            pin=row["pin"],
            full_name=row["full_name"],
            birth_date=row["birth_date"],
            sex=row["sex"],
            email=row["email"],
            phone=row["phone"],
            level=int(row["level"]),
            mfa_enabled=row["totp_enabled_at"] is not None,
            roles=tuple(row["roles"] or ()),
            created_at=row["created_at"],
        )

"""``lgsp accounts`` and ``lgsp orgs``."""

from __future__ import annotations

import click


@click.group()
def accounts() -> None:
    """Citizen accounts."""


@click.group()
def orgs() -> None:
    """Organizations and their members."""

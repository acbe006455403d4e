"""``lgsp clients`` and ``lgsp keys``."""

from __future__ import annotations

import click


@click.group()
def clients() -> None:
    """OAuth client applications (relying parties and agency back-ends)."""


@click.group()
def keys() -> None:
    """Token signing keys."""

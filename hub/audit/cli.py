"""``lgsp audit``."""

from __future__ import annotations

import sys

import click

from hub.audit import service
from hub.cliutil import database_of, settings_of


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Check the whole hash chain; exit 0 only when it is intact."""
    settings = settings_of(ctx).with_demo_secret()
    result, seconds = service.timed_verify(database_of(ctx), settings)
    rate = result.checked / seconds if seconds > 0 else 0.0
    if result.ok:
        click.echo(
            f"audit chain intact: {result.checked} records verified in {seconds:.2f} s"
            f" ({rate:,.0f} records/s)"
        )
        return
    click.echo(f"audit chain BROKEN at record #{result.first_bad_seq}: {result.reason}", err=True)
    sys.exit(1)

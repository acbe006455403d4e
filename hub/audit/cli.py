"""``lgsp audit``."""

from __future__ import annotations

import sys

import click

from hub.audit import service
from hub.audit.models import Anchor
from hub.cliutil import database_of, emit_json, settings_of


class AnchorParam(click.ParamType):
    """``SEQ:HASH``, as ``lgsp audit head`` prints it."""

    name = "SEQ:HASH"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Anchor:
        if isinstance(value, Anchor):
            return value
        try:
            return service.parse_anchor(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    type=AnchorParam(),
    help="A head recorded earlier by `lgsp audit head` (repeatable): the record it names "
    "must still be in the log, with that hash.",
)
@click.pass_context
def verify(ctx: click.Context, anchors: tuple[Anchor, ...]) -> None:
    """Check the whole hash chain; exit 0 only when it is intact."""
    settings = settings_of(ctx).with_demo_secret()
    result, seconds = service.timed_verify(database_of(ctx), settings, anchors=anchors)
    rate = result.checked / seconds if seconds > 0 else 0.0
    if result.ok:
        matched = f", {len(anchors)} anchor(s) matched" if anchors else ""
        click.echo(
            f"audit chain intact: {result.checked} records verified in {seconds:.2f} s"
            f" ({rate:,.0f} records/s){matched}"
        )
        return
    click.echo(f"audit chain BROKEN at record #{result.first_bad_seq}: {result.reason}", err=True)
    sys.exit(1)


@audit.command("head")
@click.option("--json", "as_json", is_flag=True, help="Print seq, hash, time and anchor as JSON.")
@click.pass_context
def head(ctx: click.Context, as_json: bool) -> None:
    """Print the chain head as SEQ:HASH, to record outside this database.

    Given back later to `lgsp audit verify --anchor`, it proves that the log still holds
    that record: records removed from the end cannot be hidden by moving the head back.
    """
    current = service.current_head(database_of(ctx))
    if current.problem:
        click.echo(f"audit chain BROKEN: {current.problem}", err=True)
        sys.exit(1)
    if as_json:
        emit_json(
            {
                "seq": current.anchor.seq,
                "hash": current.anchor.hash,
                "at": current.at.isoformat() if current.at else None,
                "anchor": str(current.anchor),
            }
        )
        return
    click.echo(str(current.anchor))

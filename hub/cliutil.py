"""Helpers shared by every ``lgsp`` sub-command: settings, database, one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar

import click

from hub import embedded
from hub.config import Settings
from hub.db import Connection, Database

F = TypeVar("F", bound=Callable[..., Any])


def settings_of(ctx: click.Context) -> Settings:
    """The settings loaded by the ``lgsp`` group."""
    settings: Settings = ctx.find_root().obj["settings"]
    return settings


def database_of(ctx: click.Context) -> Database:
    """The database for this command: LGSP_DATABASE_URL or the embedded server."""
    root = ctx.find_root().obj
    if "db" not in root:
        settings = settings_of(ctx)
        url = settings.database_url or embedded.ensure_server(settings.pg_dir)
        root["db"] = Database.from_settings(settings, url)
    db: Database = root["db"]
    return db


def pass_db(f: F) -> F:
    """Give a command its ``Database`` as the first argument."""

    @click.pass_context
    def wrapper(ctx: click.Context, *args: Any, **kwargs: Any) -> Any:
        return ctx.invoke(f, database_of(ctx), *args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]


def emit_json(value: Any) -> None:
    """Print a JSON document on stdout (UTF-8, diacritics kept)."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def progress(message: str) -> None:
    """A progress line on stderr, so stdout stays clean for data."""
    print(message, file=sys.stderr, flush=True)


def record_admin_action(
    conn: Connection,
    kind: str,
    *,
    subject: str | None = None,
    client_id: str | None = None,
    dataset_id: str | None = None,
    **detail: Any,
) -> None:
    """Keep an operator's action in the audit chain, in the command's own transaction.

    The ``lgsp`` root installs the recorder (the governance audit): the identity commands
    cannot import it themselves. ``subject`` (a PIN or tax code) is stored as a keyed hash.
    """
    ctx = click.get_current_context(silent=True)
    root = (ctx.find_root().obj if ctx is not None else None) or {}
    recorder = root.get("admin_recorder")
    if ctx is not None and recorder is not None:
        recorder(
            conn,
            settings_of(ctx),
            kind,
            subject=subject,
            client_id=client_id,
            dataset_id=dataset_id,
            detail=detail,
        )

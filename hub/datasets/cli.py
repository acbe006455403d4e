"""``lgsp datasets``: load definitions as new versions, list, enable and disable datasets."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import click

from hub.cliutil import emit_json, pass_db, record_admin_action
from hub.datasets import service
from hub.db import Database
from hub.errors import ConfigError


def _default_actor() -> str:
    try:
        return "cli:" + pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"cli:uid-{os.getuid()}"


def read_env_file(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines (blank lines and # comments ignored; values may be quoted)."""
    env: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the environment file ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ConfigError(f"{path}: line {number}: expected NAME=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[name] = value
    return env


@click.group()
def datasets() -> None:
    """Datasets: ministry services wrapped by connectors."""


@datasets.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--env-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="NAME=VALUE file for ${VAR} locations and credentials; when given, the upstream "
    "contract (e.g. the WSDL and its operation) is checked before storing.",
)
@click.option("--by", "loaded_by", default=_default_actor, help="Who loads it (recorded).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_db
def load(
    database: Database, file: Path, env_file: Path | None, loaded_by: str, as_json: bool
) -> None:
    """Validate FILE.yaml and store it as the dataset's new version (unchanged: no new version)."""
    check_env = read_env_file(env_file) if env_file is not None else None
    with database.transaction() as conn:
        result = service.load_definition_file(conn, file, loaded_by=loaded_by, check_env=check_env)
        if result.created:
            record_admin_action(
                conn,
                "dataset.load",
                dataset_id=result.dataset_id,
                version=result.version,
                checksum=result.checksum,
            )
    if as_json:
        emit_json(
            {
                "id": result.dataset_id,
                "version": result.version,
                "created": result.created,
                "checksum": result.checksum,
            }
        )
    elif result.created:
        click.echo(f"{result.dataset_id}: stored as version {result.version}")
    else:
        click.echo(
            f"{result.dataset_id}: unchanged; version {result.version} is current "
            "(no new version stored)"
        )


@datasets.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the datasets as JSON.")
@pass_db
def list_(database: Database, as_json: bool) -> None:
    """List every dataset with its current version."""
    with database.transaction() as conn:
        rows = service.list_datasets(conn)
    items = [
        {
            "id": ds.id,
            "version": ds.current_version,
            "enabled": ds.enabled,
            "title": ds.definition.get("title", {}),
            "owner": ds.definition.get("owner", {}),
            "kind": ds.definition.get("upstream", {}).get("kind"),
            "loaded_at": ds.loaded_at.isoformat(),
            "loaded_by": ds.loaded_by,
            "checksum": ds.checksum,
        }
        for ds in rows
    ]
    if as_json:
        emit_json(items)
        return
    if not items:
        click.echo("no datasets; load one with `lgsp datasets load FILE.yaml`")
        return
    header = ("ID", "VERSION", "ENABLED", "KIND", "OWNER", "TITLE")
    table = [
        (
            i["id"],
            str(i["version"]),
            "yes" if i["enabled"] else "no",
            str(i["kind"]),
            str(i["owner"].get("code", "")),
            str(i["title"].get("en", "")),
        )
        for i in items
    ]
    widths = [max(len(r[c]) for r in (header, *table)) for c in range(len(header) - 1)]
    for row in (header, *table):
        cells = [cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)]
        click.echo("  ".join([*cells, row[-1]]))


def _toggle(database: Database, dataset_id: str, enabled: bool) -> None:
    with database.transaction() as conn:
        service.set_enabled(conn, dataset_id, enabled=enabled)
        record_admin_action(
            conn, "dataset.enable" if enabled else "dataset.disable", dataset_id=dataset_id
        )
    click.echo(f"{dataset_id}: {'enabled' if enabled else 'disabled'}")


@datasets.command("enable")
@click.argument("dataset_id")
@pass_db
def enable(database: Database, dataset_id: str) -> None:
    """Enable a dataset (it is listed and answers queries)."""
    _toggle(database, dataset_id, True)


@datasets.command("disable")
@click.argument("dataset_id")
@pass_db
def disable(database: Database, dataset_id: str) -> None:
    """Disable a dataset (it leaves the catalogue and refuses queries)."""
    _toggle(database, dataset_id, False)

"""The ``lgsp`` command: operations on the hub (database, server, demo) and its domains."""

from __future__ import annotations

import errno
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from hub import embedded, migrations
from hub.audit.cli import audit
from hub.cliutil import database_of, emit_json, pass_db, progress, settings_of
from hub.config import Settings
from hub.datasets.cli import datasets
from hub.db import Connection, Database
from hub.errors import ConfigError, HubError
from hub.governance import service as governance_service
from hub.governance.cli import grants, holidays, operator, requests_group, roles
from identity.cli_accounts import accounts, orgs
from identity.cli_oauth import clients, keys


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lgsp-hub", prog_name="lgsp")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """LGSP Hub: provincial identity (OpenID Connect) and data-sharing hub.

    With no LGSP_DATABASE_URL, every command uses the embedded PostgreSQL in
    LGSP_DATA_DIR (default ./var).
    """
    ctx.obj = {"settings": Settings.from_env(), "admin_recorder": _record_admin_action}


def _record_admin_action(conn: Connection, settings: Settings, kind: str, **where: Any) -> None:
    governance_service.record_admin_action(
        conn, settings.with_demo_secret(), operator(), kind, **where
    )


@cli.group()
def db() -> None:
    """Database schema and the embedded server."""


@db.command("upgrade")
@pass_db
def db_upgrade(database: Database) -> None:
    """Apply pending migrations."""
    applied = migrations.upgrade(database, progress=lambda m: progress(f"applying {m.name} …"))
    click.echo(f"{len(applied)} migration(s) applied; the database is current.")


@db.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@pass_db
def db_status(database: Database, as_json: bool) -> None:
    """List applied and pending migrations (exit 1 when not current)."""
    state = migrations.status(database)
    if as_json:
        emit_json(
            {
                "applied": [m.name for m in state.applied],
                "pending": [m.name for m in state.pending],
                "changed": [m.name for m in state.changed],
                "current": state.current,
            }
        )
    else:
        changed = {m.version for m in state.changed}
        for m in state.applied:
            click.echo(
                f"applied  {m.name}" + ("  (CHANGED since applied)" if m.version in changed else "")
            )
        for m in state.pending:
            click.echo(f"pending  {m.name}")
        click.echo(
            "database is current"
            if state.current
            else "database is NOT current: run `lgsp db upgrade`"
        )
    if not state.current:
        sys.exit(1)


@db.command("url")
@click.pass_context
def db_url(ctx: click.Context) -> None:
    """Print the connection URL in use (psql "$(lgsp db url)" works)."""
    click.echo(database_of(ctx).url)


@db.command("stop")
@click.pass_context
def db_stop(ctx: click.Context) -> None:
    """Stop the embedded PostgreSQL server of the data directory."""
    settings = settings_of(ctx)
    if settings.database_url:
        raise ConfigError("LGSP_DATABASE_URL is set: there is no embedded server to stop")
    stopped = embedded.stop_server(settings.pg_dir)
    click.echo(
        f"embedded PostgreSQL in {settings.pg_dir} stopped"
        if stopped
        else f"no embedded PostgreSQL running in {settings.pg_dir}"
    )


def _check_port_free(bind: str) -> None:
    host, _, port = bind.rpartition(":")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), int(port)))
        except OSError as exc:
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"({exc.strerror})"
            raise ConfigError(f"cannot listen on {bind}: the port {reason}") from None


def run_gunicorn(
    settings: Settings, url: str, *, workers: int, extra_env: dict[str, str] | None = None
) -> int:
    """Run gunicorn over the hub until it exits or we are interrupted; return its status."""
    metrics_dir = settings.metrics_dir or (settings.data_dir / "metrics")
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    env = dict(settings.environment)
    env.update(extra_env or {})
    env.update(
        LGSP_DATABASE_URL=url,
        LGSP_DATA_DIR=str(settings.data_dir.resolve()),
        LGSP_BASE_URL=settings.base_url,
        LGSP_BIND=settings.bind,
        LGSP_WORKERS=str(workers),
        LGSP_THREADS=str(settings.threads),
        LGSP_SECRET_KEY=settings.secret_key or "",
        LGSP_METRICS_DIR=str(metrics_dir.resolve()),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir.resolve()),
    )
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:hub.gunicorn_conf",
        "hub.app:create_app()",
    ]
    proc = subprocess.Popen(argv, env=env)

    def forward(signum: int, _frame: object) -> None:
        proc.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return proc.wait()


@cli.command()
@click.option("--bind", help="HOST:PORT to listen on (default LGSP_BIND or 127.0.0.1:5000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Worker processes (default: one per core, at least 2).",
)
@click.pass_context
def serve(ctx: click.Context, bind: str | None, workers: int | None) -> None:
    """Run the production server (gunicorn) against the configured database."""
    settings = settings_of(ctx)
    if bind:
        settings = settings.replace(bind=Settings.from_env({"LGSP_BIND": bind}).bind)
    if not settings.secret_key:
        raise ConfigError("LGSP_SECRET_KEY is not set; `lgsp serve` needs an explicit secret key")
    database = database_of(ctx)
    migrations.require_current(database)
    _check_port_free(settings.bind)
    sys.exit(run_gunicorn(settings, database.url, workers=workers or settings.workers))


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo keeps its database and files (default LGSP_DATA_DIR or ./var).",
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.pass_context
def demo(ctx: click.Context, port: int, host: str, data_dir: Path | None, workers: int) -> None:
    """Zero-setup demo: embedded PostgreSQL, migrations, seeded data, the hub on --port."""
    from hub import demo as demo_module

    settings = settings_of(ctx)
    if data_dir is not None:
        settings = settings.replace(data_dir=data_dir)
    # The demo's issuer follows --host/--port unless LGSP_BASE_URL chose another.
    default_base = settings.base_url == Settings().base_url
    settings = settings.replace(
        bind=f"{host}:{port}",
        base_url=f"http://{host}:{port}" if default_base else settings.base_url,
    ).with_demo_secret()
    _check_port_free(settings.bind)
    if not settings.database_url:
        progress(f"starting the embedded PostgreSQL in {settings.pg_dir} …")
    ctx.find_root().obj["settings"] = settings
    database = database_of(ctx)
    migrations.upgrade(database, progress=lambda m: progress(f"applying {m.name} …"))
    with demo_module.running(settings, database) as info:
        progress(demo_module.banner(info))
        extra_env = info.get(demo_module.SERVING_ENV) or {}
        sys.exit(run_gunicorn(settings, database.url, workers=workers, extra_env=extra_env))


for _group in (accounts, orgs, clients, keys, audit, grants, holidays, requests_group, roles):
    cli.add_command(_group)
cli.add_command(datasets)


def main() -> None:
    """Entry point: one clear line and a non-zero exit for every failure, never a traceback."""
    try:
        cli.main(prog_name="lgsp", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("lgsp: aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "lgsp"
        click.echo(f"lgsp: {exc.format_message()} (see `{where} --help`)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"lgsp: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        click.echo(f"lgsp: {exc.detail}", err=True)
        sys.exit(2)
    except HubError as exc:
        click.echo(f"lgsp: {exc.detail}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the promise is one line, never a traceback
        click.echo(f"lgsp: unexpected {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""``lgsp clients`` and ``lgsp keys``."""

from __future__ import annotations

import click

from hub.cliutil import database_of, emit_json, pass_db, record_admin_action, settings_of
from hub.db import Database
from identity import keys as signing_keys
from identity.oauth import clients as client_service
from identity.oauth.clients import AUTH_METHODS, GRANT_TYPES


@click.group()
def clients() -> None:
    """OAuth client applications (relying parties and agency back-ends)."""


@clients.command("create")
@click.option("--name", required=True, help="Display name shown on the consent page.")
@click.option(
    "--grant-type",
    "grant_types",
    multiple=True,
    required=True,
    type=click.Choice(GRANT_TYPES),
    help="Repeat for several.",
)
@click.option("--scope", "scopes", multiple=True, help="openid, profile, pid, … or dataset:<id>.")
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True)
@click.option(
    "--auth-method",
    type=click.Choice(AUTH_METHODS),
    default="client_secret_basic",
    show_default=True,
)
@click.option("--jwks-file", type=click.Path(dir_okay=False), help="Public JWKS (private_key_jwt).")
@click.option("--sector", help="Pairwise-subject sector (default: the first redirect URI's host).")
@click.option(
    "--id-token-alg",
    type=click.Choice(signing_keys.SIGNING_ALGORITHMS),
    default=signing_keys.DEFAULT_ALGORITHM,
    show_default=True,
)
@click.option("--client-id", help="A fixed client_id (default: random).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def create(
    ctx: click.Context,
    name: str,
    grant_types: tuple[str, ...],
    scopes: tuple[str, ...],
    redirect_uris: tuple[str, ...],
    post_logout_redirect_uris: tuple[str, ...],
    auth_method: str,
    jwks_file: str | None,
    sector: str | None,
    id_token_alg: str,
    client_id: str | None,
    as_json: bool,
) -> None:
    """Register a client; its secret is printed once and stored only as a keyed hash."""
    settings = settings_of(ctx).with_demo_secret()
    database = database_of(ctx)
    jwks = client_service.load_jwks(jwks_file) if jwks_file else None
    with database.transaction() as conn:
        client, secret = client_service.register_client(
            conn,
            settings=settings,
            name=name,
            grant_types=grant_types,
            scopes=[s for item in scopes for s in item.split()],
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_redirect_uris,
            auth_method=auth_method,
            jwks=jwks,
            sector=sector,
            id_token_signed_response_alg=id_token_alg,
            client_id=client_id,
        )
        record_admin_action(
            conn,
            "client.create",
            client_id=client.client_id,
            grant_types=list(client.grant_types),
            scope=" ".join(client.scopes),
        )
    result = client_service.describe(client)
    if secret:
        result["client_secret"] = secret
    if as_json:
        emit_json(result)
        return
    click.echo(f"client_id:     {client.client_id}")
    if secret:
        click.echo(f"client_secret: {secret}   (shown once; store it now)")


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the clients as JSON.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List registered clients."""
    settings = settings_of(ctx).with_demo_secret()
    database = database_of(ctx)
    with database.transaction() as conn:
        found = client_service.list_clients(conn, settings=settings)
    if as_json:
        emit_json([client_service.describe(c) for c in found])
        return
    for c in found:
        click.echo(f"{c.client_id}\t{c.auth_method}\t{','.join(c.grant_types)}\t{c.name}")


@click.group()
def keys() -> None:
    """Token signing keys."""


@keys.command("rotate")
@click.option("--json", "as_json", is_flag=True, help="Print the new key ids as JSON.")
@click.pass_context
def rotate(ctx: click.Context, as_json: bool) -> None:
    """Make new active keys; old ones stay published until their tokens have expired."""
    settings = settings_of(ctx).with_demo_secret()
    database = database_of(ctx)
    with database.transaction() as conn:
        kids = signing_keys.rotate(conn, settings=settings)
        record_admin_action(conn, "keys.rotate", active=kids)
    if as_json:
        emit_json({"active": kids})
    else:
        click.echo("new active keys: " + ", ".join(kids))
        keep = int(signing_keys.retention(settings).total_seconds())
        click.echo(f"previous keys stay in the JWKS for {keep} s, then are dropped")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the keys as JSON.")
@pass_db
def list_keys(database: Database, as_json: bool) -> None:
    """List signing keys (public metadata only)."""
    with database.transaction() as conn:
        rows = signing_keys.list_keys(conn)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        status = (
            "active"
            if row["retired_at"] is None
            else f"retired, published until {row['expires_at']}"
        )
        click.echo(f"{row['kid']}\t{row['alg']}\t{status}")

"""``lgsp grants``, ``requests``, ``roles`` and ``holidays``: governance from the command line.

The operator at the command line acts with every right; each action is audited under the
name ``cli:<login name>``.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, date, datetime, time
from typing import Any

import click

from hub.cliutil import database_of, emit_json, settings_of
from hub.errors import NotFoundError, ValidationError
from hub.governance import notify, service
from hub.governance.models import Grant, Principal
from identity.accounts import store as accounts_store


def operator() -> Principal:
    """Whoever runs ``lgsp`` on the server, by login name."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "operator"
    return Principal.operator(f"cli:{name}")


def _until(value: str | None, *, day_start: bool = False) -> datetime | None:
    """A date (valid through its last second, Asia/Ho_Chi_Minh; from its first with
    ``day_start``) or an ISO date-time."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day, time(0) if day_start else time(23, 59, 59), service.VN_TZ)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD or an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=service.VN_TZ)


def _grant_line(g: Grant, now: datetime) -> str:
    purposes = "any" if g.any_purpose else ",".join(g.purposes)
    until = g.valid_until.astimezone(service.VN_TZ).strftime("%Y-%m-%d") if g.valid_until else "-"
    quota = str(g.daily_quota) if g.daily_quota else "-"
    return (
        f"{g.id}  {g.state(now):8}  {g.client_id}  {g.dataset_id}  purposes={purposes}"
        f"  until={until}  quota={quota}  fields={','.join(g.fields)}"
    )


@click.group()
def grants() -> None:
    """Grants: which app may query which dataset, for which purposes and fields."""


@grants.command("create")
@click.option("--client", "client_id", required=True, help="The app's client id.")
@click.option("--dataset", "dataset_id", required=True, help="The dataset id.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    help="A permitted field (repeat). Default: every field that is not sensitive.",
)
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    help='A permitted procedure code (repeat), or "any" (the default).',
)
@click.option(
    "--from",
    "valid_from",
    help="First day of validity (YYYY-MM-DD) or an ISO date-time (default: now).",
)
@click.option("--until", help="Last day of validity (YYYY-MM-DD) or an ISO date-time.")
@click.option("--legal-basis", help="The legal basis (default: Decree 47/2020 as amended).")
@click.option("--quota", type=click.IntRange(1), help="Calls allowed per day (Asia/Ho_Chi_Minh).")
@click.option("--json", "as_json", is_flag=True, help="Print the grant as JSON.")
@click.pass_context
def grants_create(
    ctx: click.Context,
    client_id: str,
    dataset_id: str,
    fields: tuple[str, ...],
    purposes: tuple[str, ...],
    valid_from: str | None,
    until: str | None,
    legal_basis: str | None,
    quota: int | None,
    as_json: bool,
) -> None:
    """Let an app query a dataset (replaces its live grant for that dataset)."""
    settings = settings_of(ctx).with_demo_secret()
    with database_of(ctx).transaction() as conn:
        grant = service.grant_access(
            conn,
            actor=operator(),
            settings=settings,
            client_id=client_id,
            dataset_id=dataset_id,
            fields=fields,
            purposes=purposes,
            legal_basis=legal_basis,
            valid_from=_until(valid_from, day_start=True),
            valid_until=_until(until),
            daily_quota=quota,
        )
    now = datetime.now(UTC)
    if as_json:
        emit_json(grant.to_dict(now))
    else:
        click.echo(_grant_line(grant, now))


@grants.command("list")
@click.option("--client", "client_id", help="Only this app's grants.")
@click.option("--dataset", "dataset_id", help="Only this dataset's grants.")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked grants.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def grants_list(
    ctx: click.Context,
    client_id: str | None,
    dataset_id: str | None,
    include_revoked: bool,
    as_json: bool,
) -> None:
    """List grants (live ones unless --all)."""
    with database_of(ctx).transaction() as conn:
        found = service.list_grants(
            conn,
            actor=operator(),
            client_id=client_id,
            dataset_id=dataset_id,
            include_revoked=include_revoked,
        )
    now = datetime.now(UTC)
    if as_json:
        emit_json([g.to_dict(now) for g in found])
        return
    for g in found:
        click.echo(_grant_line(g, now))
    if not found:
        click.echo("no grants")


@grants.command("revoke")
@click.argument("grant_id")
@click.option("--reason", help="Why (kept in the grant and the audit).")
@click.pass_context
def grants_revoke(ctx: click.Context, grant_id: str, reason: str | None) -> None:
    """Revoke a grant: the app's next call is refused."""
    settings = settings_of(ctx).with_demo_secret()
    with database_of(ctx).transaction() as conn:
        grant = service.revoke_grant(
            conn, actor=operator(), settings=settings, grant_id=grant_id, reason=reason
        )
    click.echo(f"grant {grant.id} revoked")


@click.group("requests")
def requests_group() -> None:
    """Access requests: developers ask, data owners approve or refuse with reasons."""


def _request_line(r: Any, now: datetime) -> str:
    flag = " OVERDUE" if r.is_overdue(now) else ""
    due = r.due_at.astimezone(service.VN_TZ).strftime("%Y-%m-%d")
    return f"{r.id}  {r.status:8}{flag}  due={due}  {r.client_id}  {r.dataset_id}"


@requests_group.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "refused", "withdrawn"]))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def requests_list(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """List access requests (pending first, by due date)."""
    with database_of(ctx).transaction() as conn:
        found = service.list_access_requests(conn, actor=operator(), status=status)
    now = datetime.now(UTC)
    if as_json:
        emit_json([r.to_dict(now) for r in found])
        return
    for r in found:
        click.echo(_request_line(r, now))
    if not found:
        click.echo("no access requests")


@requests_group.command("show")
@click.argument("request_id")
@click.pass_context
def requests_show(ctx: click.Context, request_id: str) -> None:
    """Show a request with its history, as JSON."""
    with database_of(ctx).transaction() as conn:
        found = service.get_access_request(conn, actor=operator(), request_id=request_id)
    emit_json(found.to_dict(datetime.now(UTC)))


@requests_group.command("approve")
@click.argument("request_id")
@click.option("--field", "fields", multiple=True, help="Grant only these fields (repeat).")
@click.option("--purpose", "purposes", multiple=True, help="Grant only these purposes (repeat).")
@click.option("--until", help="Last day of validity (YYYY-MM-DD).")
@click.option("--quota", type=click.IntRange(1), help="Calls allowed per day.")
@click.option("--note", help="A note for the requester.")
@click.pass_context
def requests_approve(
    ctx: click.Context,
    request_id: str,
    fields: tuple[str, ...],
    purposes: tuple[str, ...],
    until: str | None,
    quota: int | None,
    note: str | None,
) -> None:
    """Approve a request (as asked, or narrower), creating a grant."""
    settings = settings_of(ctx).with_demo_secret()
    with database_of(ctx).transaction() as conn:
        _, grant = service.approve_access_request(
            conn,
            actor=operator(),
            settings=settings,
            request_id=request_id,
            fields=fields,
            purposes=purposes,
            valid_until=_until(until),
            daily_quota=quota,
            note=note,
        )
    click.echo(f"approved; grant {grant.id}")


@requests_group.command("refuse")
@click.argument("request_id")
@click.option("--reasons", required=True, help="The written reasons (required by law).")
@click.option("--legal-basis", help="The legal basis of the refusal.")
@click.pass_context
def requests_refuse(
    ctx: click.Context, request_id: str, reasons: str, legal_basis: str | None
) -> None:
    """Refuse a request in writing, with reasons."""
    settings = settings_of(ctx).with_demo_secret()
    with database_of(ctx).transaction() as conn:
        service.refuse_access_request(
            conn,
            actor=operator(),
            settings=settings,
            request_id=request_id,
            reasons=reasons,
            legal_basis=legal_basis,
        )
    click.echo("refused")


@requests_group.command("deliver")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@click.option(
    "--sender",
    help="log, smtp (LGSP_SMTP_URL) or MODULE:ATTR (a factory taking the settings). "
    "Default: smtp when LGSP_SMTP_URL is set, else log.",
)
@click.pass_context
def requests_deliver(ctx: click.Context, limit: int, sender: str | None) -> None:
    """Send waiting notices from the outbox; exit 1 when some could not be sent (they stay
    queued, with the error, for the next run)."""
    chosen = notify.sender_for(settings_of(ctx), sender)
    with database_of(ctx).transaction() as conn:
        done = service.deliver_notices(conn, sender=chosen, limit=limit)
    click.echo(f"{done.sent} notice(s) sent")
    if done.failed:
        click.echo(
            f"{done.failed} notice(s) could not be sent and stay queued: {done.last_error}",
            err=True,
        )
        sys.exit(1)


@click.group()
def roles() -> None:
    """Governance roles of accounts: admin, data_owner (per agency), auditor, developer."""


def _account_id(conn: Any, pin: str) -> str:
    account = accounts_store.find_by_pin(conn, pin)
    if account is None:
        raise NotFoundError(f"There is no account with the PIN {pin}.")
    return account.id


@roles.command("assign")
@click.option("--pin", required=True, help="The account's personal identification number.")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "data_owner", "auditor", "developer"])
)
@click.option("--agency", "agency_code", help="Owner agency code (data_owner) or agency.")
@click.option("--client", "client_id", help="An app the developer manages.")
@click.pass_context
def roles_assign(
    ctx: click.Context, pin: str, role: str, agency_code: str | None, client_id: str | None
) -> None:
    """Give an account a role."""
    settings = settings_of(ctx).with_demo_secret()
    if client_id and role != "developer":
        raise ValidationError("--client goes with --role developer.")
    with database_of(ctx).transaction() as conn:
        account_id = _account_id(conn, pin)
        described = service.assign_role(
            conn,
            actor=operator(),
            settings=settings,
            account_id=account_id,
            role=role,
            agency_code=agency_code,
        )
        if client_id:
            service.add_client_developer(
                conn,
                actor=operator(),
                settings=settings,
                client_id=client_id,
                account_id=account_id,
            )
            described = service.describe_roles(conn, account_id=account_id)
    emit_json(described)


@roles.command("remove")
@click.option("--pin", required=True)
@click.option("--role", required=True)
@click.option("--agency", "agency_code", help="Only this agency of the role.")
@click.pass_context
def roles_remove(ctx: click.Context, pin: str, role: str, agency_code: str | None) -> None:
    """Take a role away from an account."""
    settings = settings_of(ctx).with_demo_secret()
    with database_of(ctx).transaction() as conn:
        described = service.remove_role(
            conn,
            actor=operator(),
            settings=settings,
            account_id=_account_id(conn, pin),
            role=role,
            agency_code=agency_code,
        )
    emit_json(described)


@roles.command("show")
@click.option("--pin", required=True)
@click.pass_context
def roles_show(ctx: click.Context, pin: str) -> None:
    """Show an account's roles, agencies and apps."""
    with database_of(ctx).transaction() as conn:
        emit_json(service.describe_roles(conn, account_id=_account_id(conn, pin)))


@click.group()
def holidays() -> None:
    """Public holidays: the days that access requests' "2 working days" skip."""


def _day(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


@holidays.command("list")
@click.option("--year", type=click.IntRange(1900, 2200), help="The year (default: this year).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def holidays_list(ctx: click.Context, year: int | None, as_json: bool) -> None:
    """Every weekday off in a year: fixed by law, declared, or moved from a weekend."""
    year = year or datetime.now(service.VN_TZ).year
    with database_of(ctx).transaction() as conn:
        calendar = service.holiday_calendar(conn, year)
    if as_json:
        emit_json([d.to_dict() for d in calendar])
        return
    for d in calendar:
        click.echo(f"{d.day.isoformat()}  {d.day.strftime('%a')}  {d.source:8}  {d.name_vi}")


@holidays.command("add")
@click.argument("day")
@click.option("--name", "name_vi", required=True, help="Vietnamese name, e.g. 'Tết Nguyên đán'.")
@click.option("--name-en", default="", help="English name.")
@click.pass_context
def holidays_add(ctx: click.Context, day: str, name_vi: str, name_en: str) -> None:
    """Declare a public holiday on DAY (YYYY-MM-DD), as the government announced it."""
    when = _day(day)
    settings = settings_of(ctx).with_demo_secret()
    with database_of(ctx).transaction() as conn:
        service.declare_holiday(
            conn, actor=operator(), settings=settings, day=when, name_vi=name_vi, name_en=name_en
        )
    click.echo(f"declared {when.isoformat()}: {name_vi.strip()}")


@holidays.command("remove")
@click.argument("day")
@click.pass_context
def holidays_remove(ctx: click.Context, day: str) -> None:
    """Withdraw the holiday declared on DAY (YYYY-MM-DD)."""
    when = _day(day)
    settings = settings_of(ctx).with_demo_secret()
    with database_of(ctx).transaction() as conn:
        service.remove_holiday(conn, actor=operator(), settings=settings, day=when)
    click.echo(f"removed {when.isoformat()}")

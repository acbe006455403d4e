"""What ``lgsp demo`` prepares around the hub: seeded data, demo services, ``demo.json``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import urlsplit

from connectors.demo.server import DemoMinistries, start_demo_ministries
from hub import demo_rp
from hub.config import Settings
from hub.datasets.service import load_demo_datasets
from hub.db import Connection, Database
from hub.governance import demo as governance_demo
from identity import demo_seed
from identity.oauth import clients


@contextmanager
def running(settings: Settings, db: Database) -> Iterator[dict[str, Any]]:
    """Seed the demo and start its side services; yield what the banner and demo.json show."""
    info: dict[str, Any] = {
        "hub": settings.issuer,
        "health": f"{settings.issuer}/readyz",
        "database_url": db.url,
        "data_dir": str(settings.data_dir.resolve()),
    }
    with ExitStack() as stack:
        seeded = _seed(db)
        if seeded is not None:
            info["accounts"] = seeded
        ministries = _start_ministries(stack, settings, db)
        info["ministries"] = ministries.to_dict()
        # Credentials the dataset definitions name (by variable) for the serving processes.
        info[SERVING_ENV] = ministries.env
        info["agency_apps"] = _start_agency_apps(stack, settings, db)
        with db.transaction() as conn:
            info["governance"] = governance_demo.seed(
                conn,
                settings=settings,
                clients={app["name"]: app["client_id"] for app in info["agency_apps"]},
                accounts=seeded,
            )
        _write_demo_json(settings, info)
        yield info


SERVING_ENV = "_serving_env"
MINISTRY_PORT_OFFSET = 10


def _start_ministries(stack: ExitStack, settings: Settings, db: Database) -> DemoMinistries:
    """Start the demo ministries (SOAP and REST) and load their dataset definitions."""
    host = _connectable(urlsplit(f"//{settings.bind}").hostname or "127.0.0.1")
    port = (urlsplit(f"//{settings.bind}").port or 5000) + MINISTRY_PORT_OFFSET
    try:
        ministries = start_demo_ministries(host, port if port + 2 < 65536 else 0)
    except OSError:
        ministries = start_demo_ministries(host, 0)  # the usual ports are taken: any will do
    stack.callback(ministries.stop)
    with db.transaction() as conn:
        load_demo_datasets(conn, overrides=ministries.env)
    return ministries


def _seed(db: Database) -> dict[str, Any]:
    """Seed citizens and organizations; their credentials go to demo.json."""
    with db.transaction() as conn:
        return demo_seed.seed(conn)


def _start_agency_apps(stack: ExitStack, settings: Settings, db: Database) -> list[dict[str, Any]]:
    """Serve the demo agency apps next to the hub and register them as its clients."""
    hub_url = urlsplit(settings.issuer)
    host = urlsplit(f"//{settings.bind}").hostname or "127.0.0.1"
    port = urlsplit(f"//{settings.bind}").port or 5000
    # The browser goes to the issuer; behind a proxy (LGSP_BASE_URL elsewhere) the apps'
    # back channel goes straight to the address the hub listens on.
    backchannel = None if hub_url.port == port else f"http://{_connectable(host)}:{port}"
    apps = []
    for offset, app in enumerate(demo_rp.DEMO_APPS, start=1):
        running_app = stack.enter_context(
            demo_rp.serving(
                app,
                host=host,
                port=port + offset if port + offset < 65536 else 0,
                issuer=settings.issuer,
                secret_key=settings.secret_key or "",
                # The browser uses the issuer; the back channel goes straight to the bind address.
                backchannel_base=backchannel,
            )
        )
        with db.transaction() as conn:
            register_demo_client(conn, settings, running_app)
        apps.append(
            {
                "name": app.name,
                "url": running_app.url,
                "client_id": running_app.client_id,
                "client_secret": running_app.client_secret,
                "redirect_uris": [f"{running_app.url}/callback", f"{running_app.url}/data-consent"],
                "post_logout_redirect_uri": f"{running_app.url}/signed-out",
                "scopes": list(demo_rp.REGISTERED_SCOPES),
            }
        )
    return apps


def _connectable(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding to it
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def register_demo_client(
    conn: Connection, settings: Settings, running_app: demo_rp.RunningApp
) -> None:
    """Register a demo app as a confidential client with its fixed id and current URLs.

    A client left by an earlier demo run is kept when its URLs are the same (its secret is
    derived from the demo's persistent secret key), and replaced otherwise.
    """
    redirect_uri = f"{running_app.url}/callback"
    # Where the hub's data-consent screen returns (``return_to``), registered like /callback.
    data_uri = demo_rp.data_return_uri(redirect_uri)
    logout_uri = f"{running_app.url}/signed-out"
    existing = clients.find(conn, running_app.client_id, settings=settings)
    if existing is not None:
        if (
            existing.redirect_uris == (redirect_uri, data_uri)
            and existing.post_logout_redirect_uris == (logout_uri,)
            and set(existing.scopes) == set(demo_rp.REGISTERED_SCOPES)
        ):
            return
        clients.delete_client(conn, running_app.client_id)
    clients.register_client(
        conn,
        settings=settings,
        name=running_app.app.name,
        grant_types=("authorization_code", "refresh_token"),
        scopes=demo_rp.REGISTERED_SCOPES,
        redirect_uris=(redirect_uri, data_uri),
        post_logout_redirect_uris=(logout_uri,),
        auth_method="client_secret_basic",
        # Its own sector, so that each app sees its own pairwise subject for the same person.
        sector=running_app.app.sector,
        client_id=running_app.client_id,
        client_secret=running_app.client_secret,
    )


def _write_demo_json(settings: Settings, info: dict[str, Any]) -> None:
    path = settings.data_dir / "demo.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        public = {k: v for k, v in info.items() if not k.startswith("_")}
        json.dump(public, fh, ensure_ascii=False, indent=2, default=str)


def _account_lines(seeded: Any) -> list[str]:
    if not isinstance(seeded, dict):
        return []
    lines = []
    citizens = seeded.get("citizens") or {}
    if citizens:
        lines.append("Demo citizens (sign in with the personal identification number + password):")
        for key, person in citizens.items():
            totp = f", TOTP secret {person['totp_secret']}" if person.get("totp_secret") else ""
            lines.append(
                f"  {person.get('full_name', key)}: {person.get('pin')} / {person.get('password')}"
                f"  (level {person.get('level', 1)}{totp})"
            )
    org = seeded.get("organization")
    if org:
        lines.append(
            f"Demo organization: {org.get('name')} (tax code {org.get('tax_code')}); "
            f"representative {org.get('representative_pin')}, staff {org.get('staff_pin')}"
        )
    return lines


def banner(info: dict[str, Any]) -> str:
    """The text printed when the demo is up."""
    lines = [
        "",
        "LGSP Hub demo",
        f"  hub:          {info['hub']}",
        f"  readiness:    {info['health']}",
        f"  database:     {info['database_url']}",
        f"  demo.json:    {info['data_dir']}/demo.json",
    ]
    ministries = info.get("ministries") or {}
    if ministries:
        lines.append("Demo ministries (wrapped as datasets; catalogue at /api/v1/datasets):")
        lines += [f"  {name}: {url}" for name, url in ministries.items()]
    lines.append(f"  API docs:     {info['hub']}/api/docs")
    apps = info.get("agency_apps") or []
    if apps:
        lines.append("Demo agency apps (sign in to one, open the other: single sign-on):")
        for app in apps:
            lines.append(f"  {app['name']}: {app['url']}  (client_id {app['client_id']})")
    lines += _account_lines(info.get("accounts"))
    staff = (info.get("governance") or {}).get("staff") or {}
    if staff:
        lines.append(
            f"Staff (console {info['hub']}/console, level 2: password + TOTP; "
            "developer portal /developers):"
        )
        for key, person in staff.items():
            lines.append(
                f"  {key}: {person['full_name']} {person['pin']} / {person['password']}"
                f"  TOTP secret {person.get('totp_secret')}"
            )
    lines += [
        "Press Ctrl-C to stop (the embedded PostgreSQL keeps running; `lgsp db stop` stops it).",
        "",
    ]
    return "\n".join(lines)

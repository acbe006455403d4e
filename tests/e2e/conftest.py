"""End-to-end fixtures: the hub served for real over HTTP on a free local port."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from hub import demo_rp
from hub.app import create_app
from hub.config import Settings
from hub.datasets.service import DatasetRuntime, load_demo_datasets
from hub.db import Database
from hub.demo import register_demo_client
from hub.governance.policy import GovernancePolicy

# A level-1 citizen: Hà Nội (001), born 1990, male (century/sex digit 0).
CITIZEN_PIN = "001090123456"
CITIZEN_PASSWORD = "Mat-khau-thu-nghiem-2025"


class Deferred:
    """A WSGI callable bound to its socket before the application (which needs the URL) exists."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@dataclass
class LiveHub:
    """A hub served on a background thread."""

    url: str
    settings: Settings
    db: Database


def serve_in_thread(server: BaseWSGIServer) -> threading.Thread:
    """Start serving on a daemon thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def stop(server: BaseWSGIServer, thread: threading.Thread) -> None:
    """Stop a server started by serve_in_thread and release its socket."""
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@contextmanager
def serving_hub(
    db_url: str,
    data_dir: Path,
    *,
    prepare: Callable[[Flask, Settings, Database], None] | None = None,
) -> Iterator[LiveHub]:
    """The hub on http://127.0.0.1:<free port>, its issuer being that URL; ``prepare`` may
    adjust the app before the first request."""
    deferred = Deferred()
    server = make_server("127.0.0.1", 0, deferred, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    settings = Settings(
        database_url=db_url,
        data_dir=data_dir,
        base_url=url,
        secret_key="e2e-secret-key-" + "x" * 32,
        log_level="WARNING",
        workers=1,
    )
    database = Database(db_url, max_connections=16)
    app = create_app(settings, db=database)
    if prepare is not None:
        prepare(app, settings, database)
    deferred.app = app
    thread = serve_in_thread(server)
    try:
        yield LiveHub(url=url, settings=settings, db=database)
    finally:
        stop(server, thread)
        database.close()


def governed(env: dict[str, str]) -> Callable[[Flask, Settings, Database], None]:
    """A ``prepare`` that loads the demo datasets over the ministries at ``env`` and enforces
    grants on them."""

    def prepare(app: Flask, settings: Settings, database: Database) -> None:
        with database.transaction() as conn:
            load_demo_datasets(conn, overrides=env)
        app.extensions["lgsp.datasets"] = DatasetRuntime(
            env=env, policy=GovernancePolicy(database, settings)
        )

    return prepare


def serve_demo_app(stack: ExitStack, hub: LiveHub, app: demo_rp.DemoApp) -> demo_rp.RunningApp:
    """A demo agency app served on a free port and registered as a client of ``hub``, until
    ``stack`` closes."""
    served = stack.enter_context(
        demo_rp.serving(
            app,
            host="127.0.0.1",
            port=0,
            issuer=hub.url,
            secret_key=hub.settings.secret_key or "",
        )
    )
    with hub.db.transaction() as conn:
        register_demo_client(conn, hub.settings, served)
    return served


@pytest.fixture
def live_hub(db_url: str, tmp_path: Path) -> Iterator[LiveHub]:
    """The hub on http://127.0.0.1:<free port>, its issuer being that URL."""
    with serving_hub(db_url, tmp_path / "hub") as hub:
        yield hub


@pytest.fixture
def citizen(live_hub: LiveHub) -> dict[str, str]:
    """A level-1 citizen who signs in with PIN and password."""
    from identity.accounts import service

    with live_hub.db.transaction() as conn:
        service.create_citizen(
            conn,
            pin=CITIZEN_PIN,
            full_name="Nguyễn Văn Thử",
            birth_date=date(1990, 5, 17),
            sex="male",
            password=CITIZEN_PASSWORD,
            email="thu.nguyen@example.vn",
        )
    return {"pin": CITIZEN_PIN, "password": CITIZEN_PASSWORD, "name": "Nguyễn Văn Thử"}


def register_client(live_hub: LiveHub, **fields: Any) -> dict[str, Any]:
    """Register an OAuth client in the hub's database; return its id and secret."""
    from identity.oauth.clients import register_client as register

    with live_hub.db.transaction() as conn:
        client, secret = register(conn, settings=live_hub.settings, **fields)
    return {"client_id": client.client_id, "client_secret": secret}

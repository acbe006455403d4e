"""The application factory: the one place where the hub is wired together."""

from __future__ import annotations

from flask import Flask

from hub import embedded, health, http
from hub.config import Settings
from hub.console import views as console
from hub.datasets import views as datasets_views
from hub.db import Database
from hub.governance import views as governance_views
from hub.governance.policy import GovernancePolicy
from hub.governance_pages import views as governance_pages
from hub.logs import configure_logging
from hub.portal import views as portal
from identity import login, oauth


def database_url(settings: Settings) -> str:
    """The configured database URL, or the embedded server's (started on demand)."""
    return settings.database_url or embedded.ensure_server(settings.pg_dir)


def create_app(
    settings: Settings | None = None, *, db: Database | None = None, governance: bool = True
) -> Flask:
    """Build the hub's WSGI application from settings (read from the environment by default).

    ``governance=False`` switches grant enforcement and the audit of data queries off (every
    field to every token holding the dataset scope): for benchmarks and connector tests only.
    """
    settings = (settings or Settings.from_env()).with_demo_secret()
    configure_logging(settings.log_level)
    db = db or Database.from_settings(settings, database_url(settings))

    app = Flask("hub", static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="lgsp_ui",
        JSON_SORT_KEYS=False,
        LGSP_HTTPS=settings.secure_cookies,
        LGSP_METRICS_MULTIPROC=settings.metrics_dir is not None,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["lgsp.settings"] = settings
    app.extensions["lgsp.db"] = db
    app.extensions.setdefault("lgsp.readiness", {})

    http.install(app)
    app.register_blueprint(health.bp)
    login.init_app(app)
    oauth.init_app(app)
    policy = GovernancePolicy(db, settings) if governance else None
    datasets_views.init_app(app, env=settings.environment, policy=policy)
    governance_views.init_app(app)
    governance_pages.init_app(app)
    console.init_app(app)
    portal.init_app(app)
    return app

"""The OAuth 2.0 / OpenID Connect provider (Authlib with psycopg2 stores)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the provider's endpoints on ``app``."""
    from authlib.oauth2.rfc9207 import IssuerParameter

    from identity import i18n, sessions
    from identity.login import AccountSection, register_account_section
    from identity.oauth import scopes, server, store, views

    class HubIssuerParameter(IssuerParameter):
        """RFC 9207: ``iss`` in every authorization response."""

        def get_issuer(self) -> str:
            return server.settings().issuer

    i18n.add_messages(scopes.MESSAGES)
    oauth_server = server.create_server(app)
    oauth_server.register_extension(HubIssuerParameter())
    app.extensions["lgsp.oauth"] = oauth_server
    app.register_blueprint(views.bp)
    sessions.on_session_end(app, store.revoke_online)
    register_account_section(
        AccountSection(
            name="oauth_apps",
            template="oauth/account_apps.html",
            load=views.load_account_apps,
            order=50,
        )
    )

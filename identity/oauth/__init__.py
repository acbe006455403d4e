"""The OAuth 2.0 / OpenID Connect provider (Authlib with psycopg2 stores)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the provider's endpoints on ``app``."""

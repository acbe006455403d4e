"""Sign-in, MFA and the citizen's /account pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the sign-in and account pages on ``app``."""

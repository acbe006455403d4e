"""Fixtures for the governance pages: the governed hub, staff, citizens, signed-in browsers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.db import Database
from identity import sessions
from tests.governance.conftest import (
    App,
    agency,
    api,
    gov,
    make_app,
    ministries,
    people,
    staff,
)

__all__ = ["App", "agency", "api", "gov", "make_app", "ministries", "people", "staff"]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RETURN_TO = "https://app.example.vn/callback"

SignIn = Callable[..., FlaskClient]


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture
def sign_in(gov: Flask, db: Database) -> SignIn:
    """A browser (test client) signed in to the hub as an account, at level ``acr``."""

    def browser(account_id: str, *, acr: int = 2) -> FlaskClient:
        client = gov.test_client()
        with gov.test_request_context():
            with db.transaction() as conn:
                _, token = sessions.begin_session(
                    conn,
                    account_id=account_id,
                    acr=acr,
                    amr=("pwd", "otp") if acr == 2 else ("pwd",),
                    now=datetime.now(UTC),
                )
        client.set_cookie(sessions.COOKIE_NAME, token)
        return client

    return browser

"""CSRF protection for the hub's HTML forms.

A random token lives in the signed Flask session cookie (``lgsp_ui``); every form carries it
in a hidden ``csrf_token`` field, and ``check_csrf`` compares the two in constant time.
"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from hub.errors import HubError

FIELD = "csrf_token"
_KEY = "csrf"


class CsrfError(HubError):
    """The form has expired or did not come from this site; reload the page and try again."""

    status = 400
    code = "csrf_failed"
    title = "Form check failed"
    origin = "client"


def csrf_token() -> str:
    """The token to put in a hidden ``csrf_token`` field (a Jinja global too)."""
    token = session.get(_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[_KEY] = token
    return token


def check_csrf() -> None:
    """Refuse (CsrfError, rendered as a 400 page) a POST whose token is missing or wrong."""
    expected = session.get(_KEY)
    given = request.form.get(FIELD, "")
    if (
        not isinstance(expected, str)
        or not given
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        raise CsrfError()

"""The console's audit page with hostile `since`/`until`: a 400 page or no match, never a 500,
and whatever is shown back is escaped."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database, fetch_all
from tests.governance.conftest import App
from tests.pages.conftest import SignIn
from tests.pages.test_console import audit_setup

MARKUP = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "' onfocus='alert(1)"]
NOT_TIMES = [
    *MARKUP,
    "' OR 1=1 --",
    "%",
    "_",
    "a\x00b",
    "x" * 5000,
    "2026-13-45T00:00",
    "2026-02-30T10:00",
    "yesterday",
]


@pytest.mark.parametrize("name", ["since", "until"])
def test_hostile_times_on_the_audit_page(
    name: str,
    api: FlaskClient,
    db: Database,
    settings: Settings,
    agency: App,
    staff: dict[str, str],
    sign_in: SignIn,
) -> None:
    audit_setup(api, db, settings, agency)
    auditor = sign_in(staff["auditor"])
    for value in NOT_TIMES:
        page = auditor.get("/console/audit", query_string={name: value})
        html = page.get_data(as_text=True)
        assert page.status_code in (200, 400), (name, value[:40], page.status_code)
        assert "Traceback" not in html and "psycopg2" not in html, (name, value[:40])
        if page.status_code == 200:
            assert "0 bản ghi phù hợp" in html, (name, value[:40])
        if value in MARKUP:
            assert value not in html, (name, value)
            assert "<script>alert(1)" not in html and "<img src=x" not in html
            assert f'name="{name}" value="&' in html  # shown back in the form, escaped
        exported = auditor.get("/console/audit.csv", query_string={name: value})
        assert exported.status_code in (200, 400), (name, value[:40], exported.status_code)
        if exported.status_code == 200:
            assert exported.get_data(as_text=True).count("\r\n") == 1  # the header only
        else:
            assert "<script>alert(1)" not in exported.get_data(as_text=True)
    # The far ends of the calendar are times, not errors.
    edge = {"since": "9999-12-31T23:59", "until": "0001-01-01T00:00"}[name]
    page = auditor.get("/console/audit", query_string={name: edge})
    assert page.status_code == 200 and "0 bản ghi phù hợp" in page.get_data(as_text=True)
    with db.transaction() as conn:
        assert fetch_all(conn, "SELECT count(*) AS n FROM audit_log WHERE kind = 'data.query'") == [
            {"n": 2}
        ]

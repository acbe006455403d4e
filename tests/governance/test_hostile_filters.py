"""Hostile values in the admin API's list and search filters: a value that matches nothing
or a 400 problem, never a 500, never SQL, and nothing of the database in the answer."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from hub.config import Settings
from hub.db import Database
from tests.governance.conftest import App, grant, seed_calls
from tests.governance.test_admin_api import REQUEST

ADMIN = "/api/admin/v1"
HOSTILE = [
    "' OR 1=1 --",
    "x'; DROP TABLE audit_log; --",
    "%",
    "_",
    "%%' OR '%'='",
    "a\x00b",
    "\x00",
    "x" * 5000,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "2026-13-45",
    "2026-02-30T00:00:00+07:00",
    "2026-01-01T00:00:00",  # no offset
    "yesterday",
    "1' UNION SELECT content FROM audit_log --",
]
LEAKS = ("Traceback", "psycopg2", "SELECT", "audit_log", "syntax error")


def _leaks(text: str, value: str) -> list[str]:
    """Signs of the database or a traceback in an answer (other than the value echoed back)."""
    return [leak for leak in LEAKS if leak in text and leak not in value]


def _harmless(response: TestResponse, what: tuple[str, ...], value: str) -> None:
    status = response.status_code
    assert status in (200, 400), (what, status)
    text = response.get_data(as_text=True)
    assert _leaks(text, value) == [], (what, text[:300])
    if status == 400:
        assert response.get_json()["status"] == 400, what


def test_hostile_audit_filters_match_nothing_or_are_refused(
    api: FlaskClient,
    agency: App,
    db: Database,
    settings: Settings,
    staff: dict[str, str],
    bearer: Callable[..., dict[str, str]],
) -> None:
    seed_calls(api, agency, db, settings)
    auditor = bearer(staff["auditor"])
    total = api.get(f"{ADMIN}/audit?kind=data.query", headers=auditor).get_json()["total"]
    assert total == 3
    for name in ("since", "until", "error_code", "request_id", "kind", "subject"):
        for value in HOSTILE:
            what = (name, value[:40])
            found = api.get(f"{ADMIN}/audit", query_string={name: value}, headers=auditor)
            _harmless(found, what, value)
            if name in ("since", "until"):  # an ISO 8601 time with an offset, nothing else
                assert found.status_code == 400, what
            if found.status_code == 200:
                assert found.get_json() == {"records": [], "total": 0}, what
            exported = api.get(f"{ADMIN}/audit.csv", query_string={name: value}, headers=auditor)
            _harmless(exported, what, value)
            if exported.status_code == 200:
                assert len(list(csv.reader(io.StringIO(exported.get_data(as_text=True))))) == 1
    # The far ends of the calendar are values too, not errors.
    edges = {
        "since": "9999-12-31T23:59:59-14:00",
        "until": "0001-01-01T00:00:00+14:00",
    }
    for name, value in edges.items():
        response = api.get(f"{ADMIN}/audit", query_string={name: value}, headers=auditor)
        assert response.status_code == 200, (name, response.get_json())
        assert response.get_json()["total"] == 0
    window = {"since": "2000-01-01T00:00:00+07:00", "until": "9999-12-31T23:59:59+07:00"}
    assert api.get(f"{ADMIN}/audit", query_string=window, headers=auditor).status_code == 200
    again = api.get(f"{ADMIN}/audit?kind=data.query", headers=auditor).get_json()["total"]
    assert again == 3  # nothing was dropped or rewritten


def test_hostile_grant_and_request_list_filters(
    api: FlaskClient,
    agency: App,
    db: Database,
    settings: Settings,
    staff: dict[str, str],
    bearer: Callable[..., dict[str, str]],
) -> None:
    made = grant(db, settings, agency.client_id, "dan-cu", purposes=["1.001234"])
    asked = api.post(
        f"{ADMIN}/access-requests",
        json={**REQUEST, "client_id": agency.client_id},
        headers=bearer(staff["developer"]),
    )
    assert asked.status_code == 201
    for who in ("admin", "owner", "developer"):
        headers = bearer(staff[who])
        for value in HOSTILE:
            for name in ("client_id", "dataset_id"):
                what = (who, name, value[:40])
                listed = api.get(f"{ADMIN}/grants", query_string={name: value}, headers=headers)
                _harmless(listed, what, value)
                if listed.status_code == 200:
                    assert listed.get_json() == {"grants": []}, what
            flag = api.get(
                f"{ADMIN}/grants", query_string={"include_revoked": value}, headers=headers
            )
            _harmless(flag, (who, "include_revoked", value[:40]), value)
            if flag.status_code == 200:
                assert [g["id"] for g in flag.get_json()["grants"]] == [made.id]
            inbox = api.get(
                f"{ADMIN}/access-requests", query_string={"status": value}, headers=headers
            )
            _harmless(inbox, (who, "status", value[:40]), value)
            if inbox.status_code == 200:
                assert inbox.get_json() == {"access_requests": []}, (who, value[:40])
            for path in (f"{ADMIN}/grants/", f"{ADMIN}/access-requests/"):
                shown = api.get(path + value.replace("/", ""), headers=headers)
                assert shown.status_code in (400, 404), (who, path, value[:40])
                text = shown.get_data(as_text=True)
                assert _leaks(text, value) == [], (who, path, value[:40])
    admin = bearer(staff["admin"])
    assert len(api.get(f"{ADMIN}/grants", headers=admin).get_json()["grants"]) == 1
    assert (
        len(api.get(f"{ADMIN}/access-requests", headers=admin).get_json()["access_requests"]) == 1
    )

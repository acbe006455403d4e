"""Public holidays: access requests' "2 working days" skip Tết, Giỗ Tổ and days moved
from a weekend; `lgsp holidays` and the admin API maintain the declared ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database
from hub.governance import service
from tests.conftest import cli_env, run_lgsp
from tests.governance.conftest import OPERATOR, App

ADMIN = "/api/admin/v1"


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 3, tzinfo=UTC)


def test_a_weekend_holiday_is_taken_on_the_next_working_day() -> None:
    # 1/5/2027 is a Saturday: Monday 3/5 is off instead.
    assert date(2027, 5, 3) in service.days_off(date(2027, 5, 1), date(2027, 5, 31))
    # Thursday 29/4/2027: 30/4 and Monday 3/5 are off → Tuesday 4/5 (1), Wednesday 5/5 (2).
    assert service.due_at(at(2027, 4, 29)).date() == date(2027, 5, 5)
    # Declared Giỗ Tổ on Sunday 26/4/2026 moves to Monday 27/4; 30/4 and 1/5 are fixed.
    declared = [date(2026, 4, 26)]
    assert service.due_at(at(2026, 4, 24), declared=declared).date() == date(2026, 4, 29)
    assert service.due_at(at(2026, 4, 24)).date() == date(2026, 4, 28)


def test_due_dates_skip_the_declared_tet(
    db: Database, settings: Settings, api: FlaskClient, agency: App, staff: dict[str, str]
) -> None:
    with db.transaction() as conn:
        submitted = at(2026, 2, 13)  # Friday before Tết Bính Ngọ (17/2/2026)
        request = service.submit_access_request(
            conn,
            actor=OPERATOR,
            settings=settings,
            client_id=agency.client_id,
            dataset_id="dan-cu",
            fields=["full_name"],
            purposes=["1.001234"],
            legal_basis="Luật Cư trú 2020",
            justification="Kiểm tra hạn trả lời.",
            contact="dev@motcua.example.vn",
            now=submitted,
        )
        calendar = service.holiday_calendar(conn, 2026)
    # 16–20/2 are Tết (seeded by migration 0007): Monday 23/2 (1), Tuesday 24/2 (2).
    assert request.due_at.astimezone(service.VN_TZ).date() == date(2026, 2, 24)
    days = {d.day: d for d in calendar}
    assert days[date(2026, 2, 17)].name_vi == "Tết Nguyên đán"
    assert days[date(2026, 4, 27)].source == "moved"
    assert days[date(2026, 9, 2)].source == "fixed"


def test_admin_api_declares_and_withdraws_holidays(
    api: FlaskClient, staff: dict[str, str], bearer: Callable[..., dict[str, str]]
) -> None:
    admin, owner = bearer(staff["admin"]), bearer(staff["owner"])
    url = f"{ADMIN}/holidays/2026-09-01"
    body = {"name_vi": "Quốc khánh (nghỉ thêm)", "name_en": "National Day (extra)"}
    assert api.put(url, json=body, headers=owner).get_json()["code"] == "role_required"
    assert api.put(url, json=body, headers=admin).status_code == 200
    listed = api.get(f"{ADMIN}/holidays?year=2026", headers=owner).get_json()
    [extra] = [d for d in listed["days_off"] if d["day"] == "2026-09-01"]
    assert extra == {
        "day": "2026-09-01",
        "name_vi": "Quốc khánh (nghỉ thêm)",
        "name_en": "National Day (extra)",
        "source": "declared",
    }
    bad = api.put(f"{ADMIN}/holidays/2026-13-01", json=body, headers=admin)
    assert bad.status_code == 400
    assert api.put(url, json={"name_vi": " "}, headers=admin).status_code == 400
    assert api.delete(url, headers=admin).status_code == 200
    assert api.delete(url, headers=admin).status_code == 404
    assert api.get(f"{ADMIN}/holidays?year=abc", headers=owner).status_code == 400


def test_lgsp_holidays(db_url: str, settings: Settings, tmp_path: Path) -> None:
    env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY=settings.secret_key or "")
    added = run_lgsp(env, "holidays", "add", "2026-09-01", "--name", "Quốc khánh (nghỉ thêm)")
    assert added.returncode == 0, added.stderr
    listed = run_lgsp(env, "holidays", "list", "--year", "2026", "--json")
    days = {d["day"]: d for d in json.loads(listed.stdout)}
    assert days["2026-09-01"]["name_vi"] == "Quốc khánh (nghỉ thêm)"
    assert days["2026-02-16"]["source"] == "declared"
    text = run_lgsp(env, "holidays", "list", "--year", "2026")
    assert "2026-09-01  Tue  declared  Quốc khánh (nghỉ thêm)" in text.stdout
    removed = run_lgsp(env, "holidays", "remove", "2026-09-01")
    assert removed.returncode == 0, removed.stderr
    again = run_lgsp(env, "holidays", "remove", "2026-09-01")
    assert again.returncode != 0 and "Traceback" not in again.stderr
    assert "No public holiday is declared on 2026-09-01" in again.stderr
    bad = run_lgsp(env, "holidays", "add", "1/9/2026", "--name", "x")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr

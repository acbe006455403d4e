"""Audit search and CSV export (hostile filters), the lgsp commands, and an intact chain."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database
from tests.conftest import cli_env, run_lgsp
from tests.governance.conftest import AN, AN_PIN, App, audit_rows, query, seed_calls

ADMIN = "/api/admin/v1"
HOSTILE = [
    "' OR '1'='1",
    "x'; DROP TABLE audit_log; --",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "%",
    "_",
    "\\",
]

ROOT = Path(__file__).resolve().parents[2]


def test_audit_search_filters_are_values_never_sql(
    api: FlaskClient,
    agency: App,
    db: Database,
    settings: Settings,
    staff: dict[str, str],
    bearer: Callable[..., dict[str, str]],
) -> None:
    seed_calls(api, agency, db, settings)
    auditor = bearer(staff["auditor"])

    def search(**args: str) -> dict:
        response = api.get(f"{ADMIN}/audit", query_string=args, headers=auditor)
        assert response.status_code == 200, response.get_json()
        body: dict = response.get_json()
        return body

    everything = search(kind="data.query")
    assert everything["total"] == 3
    assert search(subject=AN_PIN, kind="data.query")["total"] == 2
    assert search(client_id=agency.client_id, outcome="refused")["total"] == 1
    assert search(purpose="2.000046")["records"][0]["error_code"] == "purpose_not_permitted"
    assert search(dataset_id="dan-cu", outcome="found")["total"] == 2
    assert (
        search(since="2000-01-01T00:00:00+00:00", until="2000-01-02T00:00:00+00:00")["total"] == 0
    )
    for value in HOSTILE:
        for name in ("client_id", "dataset_id", "purpose", "outcome", "kind", "subject"):
            response = api.get(f"{ADMIN}/audit", query_string={name: value}, headers=auditor)
            # Either a value that matches nothing, or refused as too long: never SQL.
            assert response.status_code in (200, 400), (name, value)
            if response.status_code == 200:
                assert response.get_json()["total"] == 0, (name, value)
            assert "<script>" not in response.get_data(as_text=True) or response.is_json
    bad = api.get(f"{ADMIN}/audit?since=yesterday", headers=auditor)
    assert bad.status_code == 400
    unknown = api.get(f"{ADMIN}/audit?order=seq;DROP", headers=auditor)
    assert unknown.status_code == 400
    again = search(kind="data.query")
    assert again["total"] == 3  # the table is still there


def test_audit_csv_export(
    api: FlaskClient,
    agency: App,
    db: Database,
    settings: Settings,
    staff: dict[str, str],
    bearer: Callable[..., dict[str, str]],
) -> None:
    seed_calls(api, agency, db, settings)
    hostile = bearer(staff["admin"])
    response = api.get(f"{ADMIN}/audit.csv?kind=data.query", headers=hostile)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["outcome"] for r in rows] == ["found", "found", "refused"]
    assert rows[0]["client_id"] == agency.client_id and AN_PIN not in response.get_data(
        as_text=True
    )
    assert rows[2]["error_code"] == "purpose_not_permitted"
    filtered = api.get(
        f"{ADMIN}/audit.csv", query_string={"subject": AN_PIN, "outcome": "found"}, headers=hostile
    )
    assert len(list(csv.DictReader(io.StringIO(filtered.get_data(as_text=True))))) == 1
    injected = api.get(
        f"{ADMIN}/audit.csv", query_string={"client_id": "=cmd|'/c calc'!A1"}, headers=hostile
    )
    assert injected.get_data(as_text=True).count("\n") == 1  # header only


def test_csv_cells_cannot_become_formulas() -> None:
    from hub.audit.service import _cell

    assert _cell("=1+1") == "'=1+1" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("Nguyễn") == "Nguyễn" and _cell(None) == ""


def test_lgsp_grants_and_audit_verify(
    api: FlaskClient,
    agency: App,
    db: Database,
    db_url: str,
    settings: Settings,
    tmp_path: Path,
    people: dict[str, str],
) -> None:
    env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY=settings.secret_key or "")
    created = run_lgsp(
        env,
        "grants",
        "create",
        "--client",
        agency.client_id,
        "--dataset",
        "dan-cu",
        "--field",
        "full_name",
        "--field",
        "birth_date",
        "--purpose",
        "1.001234",
        "--until",
        "2099-12-31",
        "--quota",
        "100",
        "--legal-basis",
        "Luật Cư trú 2020",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    assert made["fields"] == ["full_name", "birth_date"] and made["daily_quota"] == 100
    assert made["valid_until"].startswith("2099-12-31T16:59:59")  # 23:59:59 in Hà Nội
    token = agency.token()
    answer = query(api, "dan-cu", AN, token=token)
    assert set(answer.get_json()["data"]) == {"full_name", "birth_date"}

    listed = run_lgsp(env, "grants", "list", "--client", agency.client_id)
    assert listed.returncode == 0 and made["id"] in listed.stdout and "active" in listed.stdout
    bad = run_lgsp(env, "grants", "create", "--client", agency.client_id, "--dataset", "nope")
    assert bad.returncode != 0 and "nope" in bad.stderr and "Traceback" not in bad.stderr
    revoked = run_lgsp(env, "grants", "revoke", made["id"], "--reason", "kết thúc")
    assert revoked.returncode == 0, revoked.stderr
    assert query(api, "dan-cu", AN, token=token).get_json()["code"] == "not_permitted"

    roles = run_lgsp(
        env, "roles", "assign", "--pin", AN_PIN, "--role", "data_owner", "--agency", "C06"
    )
    assert roles.returncode == 0, roles.stderr
    assert json.loads(roles.stdout)["agencies"] == [{"role": "data_owner", "agency_code": "C06"}]
    assert run_lgsp(env, "requests", "list").returncode == 0

    verified = run_lgsp(env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "intact" in verified.stdout


def test_demo_seed_is_idempotent_and_shows_something(
    api: FlaskClient, agency: App, db: Database, settings: Settings, people: dict[str, str]
) -> None:
    from hub.governance import demo, service

    with db.transaction() as conn:
        first = demo.seed(conn, settings=settings, clients={"mot-cua": agency.client_id})
    with db.transaction() as conn:
        again = demo.seed(conn, settings=settings, clients={"mot-cua": agency.client_id})
        assert again["pending_request"] == first["pending_request"] and again["grants"] == []
        accesses = service.list_data_access(
            conn, settings=settings, account_id=people["citizen_level1"]
        )
        assert len(accesses) == 2 and accesses[0].purpose_name
        assert len(service.list_data_consents(conn, people["citizen_level1"])) == 1
    assert len(first["grants"]) == 2 and first["pending_request"]
    assert query(api, "dan-cu", AN, token=agency.token()).status_code == 200


def test_a_grant_from_a_later_day_is_not_yet_valid(
    api: FlaskClient, agency: App, db_url: str, settings: Settings, tmp_path: Path
) -> None:
    env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY=settings.secret_key or "")
    args = ["grants", "create", "--client", agency.client_id, "--dataset", "dan-cu"]
    created = run_lgsp(env, *args, "--from", "2099-01-01", "--until", "2099-12-31", "--json")
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    assert made["valid_from"].startswith("2098-12-31T17:00:00")  # 00:00 in Hà Nội
    assert made["state"] == "pending"
    listed = run_lgsp(env, "grants", "list", "--client", agency.client_id)
    assert "pending" in listed.stdout
    refused = query(api, "dan-cu", AN, token=agency.token())
    assert refused.status_code == 403 and refused.get_json()["code"] == "not_permitted"
    backwards = run_lgsp(env, *args, "--from", "2099-02-01", "--until", "2099-01-01")
    assert backwards.returncode != 0 and "valid_from" in backwards.stderr
    assert "Traceback" not in backwards.stderr
    assert run_lgsp(env, *args, "--from", "soon").returncode == 2


def test_operator_commands_are_audited(
    db: Database, db_url: str, settings: Settings, tmp_path: Path
) -> None:
    env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY=settings.secret_key or "")
    steps = [
        (
            "accounts",
            "create-citizen",
            "--pin",
            "001190123456",
            "--name",
            "Vũ Thị Hạnh",
            "--birth-date",
            "1990-05-01",
            "--sex",
            "female",
            "--password",
            "Mật-khẩu-dài-2026",
            "--role",
            "developer",
        ),
        (
            "orgs",
            "create",
            "--tax-code",
            "0100109106",
            "--name",
            "Công ty Thử nghiệm",
            "--representative",
            "001190123456",
        ),
        (
            "clients",
            "create",
            "--name",
            "Ứng dụng thử",
            "--grant-type",
            "client_credentials",
            "--scope",
            "dataset:dan-cu",
        ),
        ("keys", "rotate"),
        ("datasets", "load", str(ROOT / "datasets" / "dan-cu.yaml")),
        ("datasets", "disable", "dan-cu"),
        ("datasets", "enable", "dan-cu"),
    ]
    for step in steps:
        done = run_lgsp(env, *step)
        assert done.returncode == 0, (step, done.stderr)
    kinds = [
        "account.create",
        "org.create",
        "client.create",
        "keys.rotate",
        "dataset.load",
        "dataset.disable",
        "dataset.enable",
    ]
    for kind in kinds:
        [record] = audit_rows(db, kind)
        assert record["actor"].startswith("cli:"), record
    assert audit_rows(db, "account.create")[0]["detail"]["roles"] == ["developer"]
    # A person's number only as its keyed hash (an organization's tax code is public).
    assert audit_rows(db, "account.create")[0]["subject_hash"]
    assert "001190123456" not in json.dumps(audit_rows(db, "account.create"))
    assert audit_rows(db, "org.create")[0]["detail"]["tax_code"] == "0100109106"
    assert audit_rows(db, "dataset.disable")[0]["dataset_id"] == "dan-cu"
    verified = run_lgsp(env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr

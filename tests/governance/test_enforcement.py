"""Grants enforced on every query: fields, purposes, validity, revocation, quota, audit."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database, execute
from hub.governance import service
from tests.governance.conftest import (
    AN,
    OPERATOR,
    OTHER,
    App,
    audit_rows,
    grant,
    query,
)

NAME_AND_BIRTH = ["full_name", "birth_date"]


def test_no_grant_is_not_permitted(api: FlaskClient, agency: App, db: Database) -> None:
    response = query(api, "dan-cu", AN, token=agency.token())
    assert response.status_code == 403
    body = response.get_json()
    assert body["code"] == "not_permitted" and body["origin"] == "client"
    assert "data" not in body
    rows = audit_rows(db)
    assert len(rows) == 1
    assert rows[0]["outcome"] == "refused" and rows[0]["error_code"] == "not_permitted"


def test_answer_is_projected_to_granted_fields(
    api: FlaskClient, agency: App, db: Database, settings: Settings
) -> None:
    grant(db, settings, agency.client_id, "dan-cu", fields=NAME_AND_BIRTH, purposes=["1.001234"])
    response = query(api, "dan-cu", AN, token=agency.token())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "found"
    assert set(body["data"]) == {"full_name", "birth_date"}
    assert body["data"]["full_name"] == "Nguyễn Văn An"
    withheld = body["meta"]["fields_withheld"]
    assert "pin" in withheld and "ethnicity" in withheld and "full_name" not in withheld
    [row] = audit_rows(db)
    assert row["outcome"] == "found" and sorted(row["fields"]) == sorted(NAME_AND_BIRTH)
    assert row["client_id"] == agency.client_id and row["purpose"] == "1.001234"
    assert row["subject_hash"] and AN["so_dinh_danh"] not in str(row)
    assert row["dataset_version"] == 1 and row["upstream_ms"] is not None
    assert row["cache_hit"] is False


def test_sensitive_fields_are_not_granted_by_default(
    api: FlaskClient, agency: App, db: Database, settings: Settings
) -> None:
    made = grant(db, settings, agency.client_id, "dan-cu")
    assert "ethnicity" not in made.fields and "religion" not in made.fields
    assert "full_name" in made.fields and made.any_purpose
    body = query(api, "dan-cu", AN, token=agency.token()).get_json()
    assert "ethnicity" not in body["data"] and "religion" not in body["data"]
    assert {"ethnicity", "religion"} <= set(body["meta"]["fields_withheld"])
    named = grant(db, settings, agency.client_id, "dan-cu", fields=["full_name", "religion"])
    assert named.fields == ("full_name", "religion")
    body = query(api, "dan-cu", OTHER, token=agency.token()).get_json()
    assert set(body["data"]) == {"full_name", "religion"}


def test_purpose_not_in_grant_is_refused(
    api: FlaskClient, agency: App, db: Database, settings: Settings
) -> None:
    grant(db, settings, agency.client_id, "dan-cu", purposes=["1.001234", "1.004194"])
    token = agency.token()
    assert query(api, "dan-cu", AN, token=token, purpose="1.004194").status_code == 200
    response = query(api, "dan-cu", AN, token=token, purpose="2.000046")
    assert response.status_code == 403
    assert response.get_json()["code"] == "purpose_not_permitted"
    missing = query(api, "dan-cu", AN, token=token, purpose=None)
    assert missing.status_code == 400 and missing.get_json()["code"] == "missing_purpose"
    outcomes = [(r["outcome"], r["error_code"]) for r in audit_rows(db)]
    assert outcomes == [
        ("found", None),
        ("refused", "purpose_not_permitted"),
        ("refused", "missing_purpose"),
    ]


def test_revoked_grant_is_refused_on_the_very_next_call(
    api: FlaskClient, agency: App, db: Database, settings: Settings
) -> None:
    made = grant(db, settings, agency.client_id, "dan-cu")
    token = agency.token()
    assert query(api, "dan-cu", AN, token=token).status_code == 200
    with db.transaction() as conn:
        service.revoke_grant(
            conn, actor=OPERATOR, settings=settings, grant_id=made.id, reason="hết nhu cầu"
        )
    response = query(api, "dan-cu", AN, token=token)
    assert response.status_code == 403 and response.get_json()["code"] == "not_permitted"
    assert (
        "revoked" in response.get_json()["detail"]
        or "no active grant" in response.get_json()["detail"]
    )


def test_expired_grant_is_refused_on_the_very_next_call(
    api: FlaskClient, agency: App, db: Database, settings: Settings
) -> None:
    made = grant(db, settings, agency.client_id, "dan-cu")
    token = agency.token()
    assert query(api, "dan-cu", AN, token=token).status_code == 200
    with db.transaction() as conn:
        execute(
            conn,
            "UPDATE grants SET valid_from = now() - interval '2 days',"
            " valid_until = now() - interval '1 second' WHERE id = %s",
            (made.id,),
        )
    response = query(api, "dan-cu", AN, token=token)
    assert response.status_code == 403
    assert "expired" in response.get_json()["detail"]


def test_daily_quota_answers_429_with_retry_after(
    api: FlaskClient, agency: App, db: Database, settings: Settings
) -> None:
    grant(db, settings, agency.client_id, "dan-cu", daily_quota=2)
    token = agency.token()
    assert query(api, "dan-cu", AN, token=token).status_code == 200
    assert query(api, "dan-cu", OTHER, token=token).status_code == 200
    response = query(api, "dan-cu", AN, token=token)
    assert response.status_code == 429
    assert response.get_json()["code"] == "quota_exceeded"
    retry = int(response.headers["Retry-After"])
    assert retry == pytest.approx(service.seconds_until_local_midnight(), abs=5)
    assert 1 <= retry <= 86400
    assert [r["error_code"] for r in audit_rows(db)] == [None, None, "quota_exceeded"]


def test_seconds_until_midnight_in_ho_chi_minh_city() -> None:
    from datetime import UTC, datetime

    # 16:30 UTC is 23:30 in Hà Nội: half an hour left.
    assert service.seconds_until_local_midnight(datetime(2025, 5, 5, 16, 30, tzinfo=UTC)) == 1800
    assert service.local_day(datetime(2025, 5, 5, 17, 0, tzinfo=UTC)).isoformat() == "2025-05-06"


def test_insufficient_scope_and_not_found_are_audited_once(
    api: FlaskClient, agency: App, db: Database, settings: Settings
) -> None:
    grant(db, settings, agency.client_id, "dan-cu")
    nobody = {"so_dinh_danh": "001099000000", "ho_va_ten": "Không Có Ai", "ngay_sinh": "1999-01-01"}
    response = query(api, "dan-cu", nobody, token=agency.token())
    assert response.status_code == 200 and response.get_json()["status"] == "not_found"
    scoped = query(api, "dan-cu", AN, token=agency.token("dataset:doanh-nghiep"))
    assert scoped.status_code == 403 and scoped.get_json()["code"] == "insufficient_scope"
    bad = query(api, "dan-cu", {"so_dinh_danh": "12"}, token=agency.token())
    assert bad.status_code == 400
    rows = audit_rows(db)
    assert [(r["outcome"], r["error_code"]) for r in rows] == [
        ("not_found", None),
        ("refused", "insufficient_scope"),
        ("refused", "invalid_params"),
    ]
    assert rows[0]["fields"] == []


def test_failed_upstream_is_audited(
    gov: Any, agency: App, db: Database, settings: Settings, ministries: Any
) -> None:
    from hub.datasets.service import DatasetRuntime
    from hub.governance.policy import GovernancePolicy

    env = {**ministries.env, "LGSP_DEMO_BUSINESS_API_KEY": "wrong-key"}
    gov.extensions["lgsp.datasets"] = DatasetRuntime(env=env, policy=GovernancePolicy(db, settings))
    grant(db, settings, agency.client_id, "doanh-nghiep")
    response = query(
        gov.test_client(), "doanh-nghiep", {"ma_so_thue": "0108888888"}, token=agency.token()
    )
    assert response.status_code >= 500 or response.status_code == 502
    body = response.get_json()
    assert body["origin"] in ("upstream", "hub") and "data" not in body
    [row] = audit_rows(db)
    assert row["outcome"] == "failed" and row["error_code"] == body["code"]
    assert row["subject_hash"]


def test_data_is_not_returned_when_the_audit_cannot_be_written(
    api: FlaskClient, agency: App, db: Database, settings: Settings
) -> None:
    grant(db, settings, agency.client_id, "dan-cu")
    token = agency.token()
    with db.transaction() as conn:
        execute(
            conn,
            "CREATE FUNCTION audit_broken() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'disk full'; END $$;"
            " CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log"
            " FOR EACH ROW EXECUTE FUNCTION audit_broken()",
        )
    response = query(api, "dan-cu", AN, token=token)
    assert response.status_code == 503
    body = response.get_json()
    assert body["code"] == "audit_unavailable"
    text = response.get_data(as_text=True)
    assert "Nguyễn Văn An" not in text and "Hàng Bạc" not in text and "data" not in body
    with db.transaction() as conn:
        execute(conn, "DROP TRIGGER audit_broken ON audit_log")
    assert query(api, "dan-cu", AN, token=token).status_code == 200
    assert len(audit_rows(db)) == 1

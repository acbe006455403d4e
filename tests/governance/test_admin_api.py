"""The admin API: access requests from submission to grant, and roles per endpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database, fetch_all
from hub.governance import service
from hub.governance.models import AccessRequest
from tests.governance.conftest import AN, OPERATOR, App, AppFactory, audit_rows, grant, query

ADMIN = "/api/admin/v1"
Bearer = Callable[..., dict[str, str]]

REQUEST = {
    "dataset_id": "dan-cu",
    "fields": ["full_name", "birth_date", "permanent_address", "phone"],
    "purposes": ["1.001234", "1.004194"],
    "legal_basis": "Luật Cư trú 2020, Điều 22",
    "justification": "Xác minh thông tin công dân khi đăng ký thường trú.",
    "contact": "dev@motcua.example.vn",
}


def submit(api: FlaskClient, agency: App, headers: dict[str, str]) -> dict:
    response = api.post(
        f"{ADMIN}/access-requests", json={**REQUEST, "client_id": agency.client_id}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    body: dict = response.get_json()
    return body


def test_approved_request_gives_the_app_only_the_granted_fields(
    api: FlaskClient, agency: App, staff: dict[str, str], bearer: Bearer, db: Database
) -> None:
    token = agency.token()
    assert query(api, "dan-cu", AN, token=token).get_json()["code"] == "not_permitted"
    created = submit(api, agency, bearer(staff["developer"], acr=1))
    assert created["status"] == "pending" and created["overdue"] is False
    assert [e["kind"] for e in created["events"]] == ["submitted", "notified"]

    inbox = api.get(f"{ADMIN}/access-requests?status=pending", headers=bearer(staff["owner"]))
    assert [r["id"] for r in inbox.get_json()["access_requests"]] == [created["id"]]
    other = api.get(f"{ADMIN}/access-requests", headers=bearer(staff["other_owner"]))
    assert other.get_json()["access_requests"] == []

    wider = api.post(
        f"{ADMIN}/access-requests/{created['id']}/approve",
        json={"fields": ["full_name", "religion"]},
        headers=bearer(staff["owner"]),
    )
    assert wider.status_code == 400
    approved = api.post(
        f"{ADMIN}/access-requests/{created['id']}/approve",
        json={"fields": ["full_name", "birth_date"], "purposes": ["1.001234"]},
        headers=bearer(staff["owner"]),
    )
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["access_request"]["status"] == "approved"
    assert body["grant"]["fields"] == ["full_name", "birth_date"]
    assert body["grant"]["access_request_id"] == created["id"]
    kinds = [e["kind"] for e in body["access_request"]["events"]]
    assert kinds == ["submitted", "notified", "approved", "notified"]

    answer = query(api, "dan-cu", AN, token=token)
    assert answer.status_code == 200
    assert set(answer.get_json()["data"]) == {"full_name", "birth_date"}
    assert query(api, "dan-cu", AN, token=token, purpose="1.004194").status_code == 403

    again = api.post(
        f"{ADMIN}/access-requests/{created['id']}/refuse",
        json={"reasons": "muộn"},
        headers=bearer(staff["owner"]),
    )
    assert again.status_code == 409
    with db.transaction() as conn:
        notices = fetch_all(conn, "SELECT recipient, kind FROM outbox ORDER BY id")
    assert notices == [
        {"recipient": "dev@motcua.example.vn", "kind": "access_request.received"},
        {"recipient": "dev@motcua.example.vn", "kind": "access_request.approved"},
    ]
    with db.transaction() as conn:
        assert service.deliver_notices(conn, sender=service.LogSender()).sent == 2
        assert service.deliver_notices(conn, sender=service.LogSender()).sent == 0
    kinds = [r["kind"] for r in audit_rows(db, "access_request.submit")]
    assert kinds == ["access_request.submit"]
    assert len(audit_rows(db, "access_request.approve")) == 1


def test_refusal_requires_written_reasons(
    api: FlaskClient, agency: App, staff: dict[str, str], bearer: Bearer, db: Database
) -> None:
    created = submit(api, agency, bearer(staff["developer"], acr=1))
    url = f"{ADMIN}/access-requests/{created['id']}/refuse"
    for body in ({}, {"reasons": ""}, {"reasons": "   "}):
        response = api.post(url, json=body, headers=bearer(staff["owner"]))
        assert response.status_code == 400, body
    refused = api.post(
        url,
        json={"reasons": "Không thuộc phạm vi thủ tục.", "legal_basis": "Điều 14 NĐ 47/2020"},
        headers=bearer(staff["owner"]),
    )
    assert refused.status_code == 200
    body = refused.get_json()
    assert body["status"] == "refused" and body["decision_reason"] == "Không thuộc phạm vi thủ tục."
    assert body["events"][-2]["kind"] == "refused"
    with db.transaction() as conn:
        [notice] = fetch_all(conn, "SELECT body FROM outbox WHERE kind = 'access_request.refused'")
    assert "Không thuộc phạm vi thủ tục." in notice["body"]


def test_due_date_is_two_working_days_and_overdue_follows() -> None:
    def at(y: int, m: int, d: int, h: int = 3) -> datetime:
        return datetime(y, m, d, h, tzinfo=UTC)

    # Monday → Wednesday; Thursday → Monday; Friday → Tuesday; Saturday → Tuesday.
    assert service.due_at(at(2025, 6, 2)).date().isoformat() == "2025-06-04"
    assert service.due_at(at(2025, 6, 5)).date().isoformat() == "2025-06-09"
    assert service.due_at(at(2025, 6, 6)).date().isoformat() == "2025-06-10"
    assert service.due_at(at(2025, 6, 7)).date().isoformat() == "2025-06-10"
    # 30/4 and 1/5 are public holidays: Tuesday 29/4/2025 → Friday 2/5 (1), Monday 5/5 (2).
    assert service.due_at(at(2025, 4, 29)).date().isoformat() == "2025-05-05"
    due = service.due_at(at(2025, 6, 2))
    assert due.astimezone(service.VN_TZ).strftime("%H:%M") == "23:59"
    request = AccessRequest(
        **{
            **dict.fromkeys(AccessRequest.__dataclass_fields__),  # type: ignore[arg-type]
            "status": "pending",
            "due_at": due,
            "events": (),
        }
    )
    assert not request.is_overdue(at(2025, 6, 4, 16))
    assert request.is_overdue(at(2025, 6, 4, 17))


def test_overdue_shows_in_the_api(
    api: FlaskClient, agency: App, staff: dict[str, str], bearer: Bearer, db: Database
) -> None:
    with db.transaction() as conn:
        service.submit_access_request(
            conn,
            actor=OPERATOR,
            settings=api.application.extensions["lgsp.settings"],
            client_id=agency.client_id,
            dataset_id="dan-cu",
            fields=None,
            purposes=["1.001234"],
            legal_basis="Luật Cư trú",
            justification="Kiểm tra",
            contact="dev@motcua.example.vn",
            now=datetime(2024, 1, 2, tzinfo=UTC),
        )
    [found] = api.get(f"{ADMIN}/access-requests", headers=bearer(staff["owner"])).get_json()[
        "access_requests"
    ]
    assert found["overdue"] is True and found["due_at"].startswith("2024-01-04")


@pytest.mark.parametrize(
    ("who", "acr", "expected"),
    [
        ("admin", 2, 201),
        ("admin", 1, 403),
        ("owner", 1, 201),
        ("other_owner", 2, 403),
        ("auditor", 2, 403),
        ("developer", 2, 403),
    ],
)
def test_who_may_create_grants(
    api: FlaskClient,
    agency: App,
    staff: dict[str, str],
    bearer: Bearer,
    who: str,
    acr: int,
    expected: int,
) -> None:
    response = api.post(
        f"{ADMIN}/grants",
        json={"client_id": agency.client_id, "dataset_id": "dan-cu", "purposes": ["1.001234"]},
        headers=bearer(staff[who], acr=acr),
    )
    assert response.status_code == expected, response.get_json()
    if who == "admin" and acr == 1:
        assert response.get_json()["code"] == "level_required"


def test_roles_on_every_endpoint(
    api: FlaskClient,
    agency: App,
    staff: dict[str, str],
    bearer: Bearer,
    db: Database,
    settings: Settings,
    people: dict[str, str],
) -> None:
    made = grant(db, settings, agency.client_id, "dan-cu")
    citizen = people["citizen_level1"]
    checks = [
        # (method, url, body, allowed, refused)
        ("get", f"{ADMIN}/grants", None, ["admin", "auditor", "owner", "developer"], []),
        ("get", f"{ADMIN}/audit", None, ["admin", "auditor"], ["owner", "developer"]),
        ("get", f"{ADMIN}/audit.csv", None, ["admin", "auditor"], ["owner", "developer"]),
        (
            "get",
            f"{ADMIN}/accounts/{citizen}/roles",
            None,
            ["admin"],
            ["auditor", "owner", "developer"],
        ),
        (
            "post",
            f"{ADMIN}/accounts/{citizen}/roles",
            {"role": "auditor"},
            ["admin"],
            ["auditor", "owner", "developer"],
        ),
        (
            "post",
            f"{ADMIN}/clients/{agency.client_id}/developers",
            {"account_id": citizen},
            ["admin"],
            ["owner", "developer"],
        ),
        ("get", f"{ADMIN}/access-requests", None, ["admin", "auditor", "owner", "developer"], []),
    ]
    for method, url, body, allowed, refused in checks:
        for who in allowed:
            response = getattr(api, method)(url, json=body, headers=bearer(staff[who]))
            assert response.status_code < 300, (url, who, response.get_json())
        for who in refused:
            response = getattr(api, method)(url, json=body, headers=bearer(staff[who]))
            assert response.status_code == 403, (url, who)
            assert response.get_json()["code"] == "role_required"
    # A citizen without a role, an app token, no token.
    nobody = bearer(people["citizen_level2"])
    assert api.get(f"{ADMIN}/grants", headers=nobody).status_code == 403
    app_token = {"Authorization": f"Bearer {agency.token()}"}
    response = api.get(f"{ADMIN}/grants", headers=app_token)
    assert response.status_code == 403 and response.get_json()["code"] == "user_token_required"
    assert api.get(f"{ADMIN}/grants").status_code == 401
    # Revocation: the other agency's owner may not, the dataset's owner may.
    url = f"{ADMIN}/grants/{made.id}/revoke"
    assert api.post(url, json={}, headers=bearer(staff["other_owner"])).status_code == 403
    assert api.post(url, json={}, headers=bearer(staff["developer"])).status_code == 403
    revoked = api.post(url, json={"reason": "hết hạn dự án"}, headers=bearer(staff["owner"]))
    assert revoked.status_code == 200 and revoked.get_json()["state"] == "revoked"
    # A developer sees his app's grants only; submitting for another app is refused.
    seen = api.get(f"{ADMIN}/grants?include_revoked=1", headers=bearer(staff["developer"]))
    assert [g["id"] for g in seen.get_json()["grants"]] == [made.id]
    foreign = api.post(
        f"{ADMIN}/access-requests",
        json={**REQUEST, "client_id": "someone-else"},
        headers=bearer(staff["developer"]),
    )
    assert foreign.status_code == 403


def test_admin_api_grant_lifecycle_and_validation(
    api: FlaskClient, agency: App, staff: dict[str, str], bearer: Bearer
) -> None:
    admin = bearer(staff["admin"])
    bad = [
        {"client_id": agency.client_id, "dataset_id": "dan-cu", "fields": ["nope"]},
        {"client_id": agency.client_id, "dataset_id": "dan-cu", "daily_quota": 0},
        {"client_id": agency.client_id, "dataset_id": "dan-cu", "purposes": ["any", "1.001234"]},
        {"client_id": agency.client_id, "dataset_id": "dan-cu", "purposes": ["<script>"]},
        {"client_id": agency.client_id, "dataset_id": "dan-cu", "valid_until": "2001-01-01"},
        {"client_id": agency.client_id, "dataset_id": "dan-cu", "extra": 1},
    ]
    for body in bad:
        response = api.post(f"{ADMIN}/grants", json=body, headers=admin)
        assert response.status_code == 400, (body, response.get_json())
    missing = api.post(
        f"{ADMIN}/grants", json={"client_id": "nope", "dataset_id": "dan-cu"}, headers=admin
    )
    assert missing.status_code == 404
    first = api.post(
        f"{ADMIN}/grants",
        json={
            "client_id": agency.client_id,
            "dataset_id": "dan-cu",
            "purposes": ["1.001234"],
            "valid_until": "2099-12-31T23:59:59+07:00",
            "daily_quota": 1000,
            "legal_basis": "Luật Cư trú 2020",
        },
        headers=admin,
    ).get_json()
    assert first["state"] == "active" and first["daily_quota"] == 1000
    second = api.post(
        f"{ADMIN}/grants",
        json={"client_id": agency.client_id, "dataset_id": "dan-cu"},
        headers=admin,
    ).get_json()
    assert second["purposes"] == ["any"]
    old = api.get(f"{ADMIN}/grants/{first['id']}", headers=admin).get_json()
    assert old["state"] == "revoked" and old["revoke_reason"] == "superseded"
    assert api.get(f"{ADMIN}/grants/not-a-uuid", headers=admin).status_code == 404


def test_a_signed_in_token_without_the_governance_scope_is_refused(
    api: FlaskClient, agency: App, staff: dict[str, str], db: Database, settings: Settings
) -> None:
    # The admin signs in to an agency app: that app's token must not act as the admin.
    from tests.governance.conftest import user_token

    token = user_token(db, settings, agency.client_id, staff["admin"], "openid profile", acr=2)
    for method, url in (("get", f"{ADMIN}/grants"), ("get", f"{ADMIN}/audit")):
        response = getattr(api, method)(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403, url
        assert response.get_json()["code"] == "insufficient_scope"
        assert response.get_json()["scope"] == "governance"


def test_the_admin_api_rotates_a_secret_for_the_app_s_developer_only(
    api: FlaskClient,
    agency: App,
    make_app: AppFactory,
    staff: dict[str, str],
    bearer: Bearer,
) -> None:
    other = make_app("Ứng dụng của cơ quan khác")
    dev = bearer(staff["developer"], acr=1)
    refused = api.post(f"/api/admin/v1/clients/{other.client_id}/secret", headers=dev)
    assert refused.status_code == 403
    for role in ("auditor", "owner"):
        denied = api.post(
            f"/api/admin/v1/clients/{agency.client_id}/secret", headers=bearer(staff[role])
        )
        assert denied.status_code == 403
    answer = api.post(f"/api/admin/v1/clients/{agency.client_id}/secret", headers=dev)
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    assert App(agency.client_id, answer.get_json()["client_secret"], agency.http).token()
    missing = api.post("/api/admin/v1/clients/nope/secret", headers=bearer(staff["admin"]))
    assert missing.status_code == 404

"""Every admin API operation × every role: the expected status, and a refusal changes nothing.

The table mirrors docs/governance.md ("Roles" and "Admin API"). "owner" is the data owner of
the dataset's agency (C06 for dan-cu), "other_owner" the data owner of another agency, and
"citizen" an account without any role holding a token issued with the governance scope.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database, fetch_all
from hub.governance import service
from tests.governance.conftest import OPERATOR, App, grant

ADMIN = "/api/admin/v1"
Bearer = Callable[..., dict[str, str]]
ROLES = ("admin", "owner", "other_owner", "auditor", "developer", "citizen")
HOLIDAY = "2027-09-03"

# Operation → expected status for each of ROLES, in that order.
EXPECTED: dict[str, tuple[int, ...]] = {
    "grants.list": (200, 200, 200, 200, 200, 403),
    "grants.create": (201, 201, 403, 403, 403, 403),
    "grants.show": (200, 200, 404, 200, 200, 404),
    "grants.revoke": (200, 200, 403, 403, 403, 403),
    "requests.list": (200, 200, 200, 200, 200, 403),
    "requests.submit": (201, 403, 403, 403, 201, 403),
    "requests.show": (200, 200, 404, 200, 200, 404),
    "requests.approve": (200, 200, 403, 403, 403, 403),
    "requests.refuse": (200, 200, 403, 403, 403, 403),
    "roles.show": (200, 403, 403, 403, 403, 403),
    "roles.assign": (200, 403, 403, 403, 403, 403),
    "roles.remove": (200, 403, 403, 403, 403, 403),
    "clients.developers": (201, 403, 403, 403, 403, 403),
    "clients.secret": (200, 403, 403, 403, 200, 403),
    "procedures": (200, 200, 200, 200, 200, 200),
    "holidays.list": (200, 200, 200, 200, 200, 200),
    "holidays.declare": (200, 403, 403, 403, 403, 403),
    "holidays.remove": (200, 403, 403, 403, 403, 403),
    "audit": (200, 403, 403, 200, 403, 403),
    "audit.csv": (200, 403, 403, 200, 403, 403),
}

# What a refused call must leave as it was (the audit log may record the refusal).
STATE = [
    "SELECT * FROM grants",
    "SELECT * FROM access_requests",
    "SELECT * FROM access_request_events",
    "SELECT * FROM outbox",
    "SELECT * FROM public_holidays",
    "SELECT * FROM account_agencies",
    "SELECT * FROM client_developers",
    "SELECT id, roles FROM accounts",
    "SELECT id, secret_hash FROM oauth_clients",
]

REQUEST = {
    "dataset_id": "dan-cu",
    "fields": ["full_name", "birth_date"],
    "purposes": ["1.001234"],
    "legal_basis": "Luật Cư trú 2020, Điều 22",
    "justification": "Xác minh thông tin công dân khi đăng ký thường trú.",
    "contact": "dev@motcua.example.vn",
}


def snapshot(db: Database) -> list[str]:
    with db.transaction() as conn:
        return [
            repr(sorted(repr(sorted(row.items())) for row in fetch_all(conn, sql))) for sql in STATE
        ]


def test_every_operation_for_every_role(
    api: FlaskClient,
    agency: App,
    staff: dict[str, str],
    bearer: Bearer,
    db: Database,
    settings: Settings,
    people: dict[str, str],
) -> None:
    headers = {who: bearer(staff[who]) for who in ROLES if who != "citizen"}
    headers["citizen"] = bearer(people["citizen_level2"])
    target = people["citizen_level1"]

    def pending_request() -> str:
        with db.transaction() as conn:
            made = service.submit_access_request(
                conn,
                actor=OPERATOR,
                settings=settings,
                client_id=agency.client_id,
                dataset_id="dan-cu",
                fields=REQUEST["fields"],
                purposes=REQUEST["purposes"],
                legal_basis=str(REQUEST["legal_basis"]),
                justification=str(REQUEST["justification"]),
                contact=str(REQUEST["contact"]),
            )
        return made.id

    def prepare(operation: str) -> tuple[str, str, Any]:
        """(method, url, body) with a fresh target, so that an allowed call can succeed."""
        if operation in ("grants.show", "grants.revoke"):
            made = grant(db, settings, agency.client_id, "dan-cu")
            if operation == "grants.show":
                return "get", f"{ADMIN}/grants/{made.id}", None
            return "post", f"{ADMIN}/grants/{made.id}/revoke", {"reason": "thử quyền"}
        if operation in ("requests.show", "requests.approve", "requests.refuse"):
            url = f"{ADMIN}/access-requests/{pending_request()}"
            if operation == "requests.show":
                return "get", url, None
            if operation == "requests.approve":
                return "post", f"{url}/approve", {"fields": ["full_name"]}
            return "post", f"{url}/refuse", {"reasons": "Không thuộc phạm vi thủ tục."}
        if operation == "roles.remove":
            with db.transaction() as conn:
                service.assign_role(
                    conn, actor=OPERATOR, settings=settings, account_id=target, role="auditor"
                )
            return "delete", f"{ADMIN}/accounts/{target}/roles?role=auditor", None
        if operation == "holidays.remove":
            with db.transaction() as conn:
                service.declare_holiday(
                    conn,
                    actor=OPERATOR,
                    settings=settings,
                    day=date.fromisoformat(HOLIDAY),
                    name_vi="Nghỉ bù",
                )
            return "delete", f"{ADMIN}/holidays/{HOLIDAY}", None
        simple: dict[str, tuple[str, str, Any]] = {
            "grants.list": ("get", f"{ADMIN}/grants", None),
            "grants.create": (
                "post",
                f"{ADMIN}/grants",
                {"client_id": agency.client_id, "dataset_id": "dan-cu", "purposes": ["1.001234"]},
            ),
            "requests.list": ("get", f"{ADMIN}/access-requests", None),
            "requests.submit": (
                "post",
                f"{ADMIN}/access-requests",
                {**REQUEST, "client_id": agency.client_id},
            ),
            "roles.show": ("get", f"{ADMIN}/accounts/{target}/roles", None),
            "roles.assign": ("post", f"{ADMIN}/accounts/{target}/roles", {"role": "auditor"}),
            "clients.developers": (
                "post",
                f"{ADMIN}/clients/{agency.client_id}/developers",
                {"account_id": target},
            ),
            "clients.secret": ("post", f"{ADMIN}/clients/{agency.client_id}/secret", None),
            "procedures": ("get", f"{ADMIN}/procedures", None),
            "holidays.list": ("get", f"{ADMIN}/holidays?year=2027", None),
            "holidays.declare": ("put", f"{ADMIN}/holidays/{HOLIDAY}", {"name_vi": "Nghỉ bù"}),
            "audit": ("get", f"{ADMIN}/audit", None),
            "audit.csv": ("get", f"{ADMIN}/audit.csv", None),
        }
        return simple[operation]

    wrong: list[tuple[str, str, int, int, Any]] = []
    for operation, statuses in EXPECTED.items():
        for who, expected in zip(ROLES, statuses, strict=True):
            if operation == "holidays.declare":
                with db.transaction() as conn:
                    conn.cursor().execute("DELETE FROM public_holidays WHERE day = %s", (HOLIDAY,))
            method, url, body = prepare(operation)
            before = snapshot(db) if expected >= 400 else None
            response = getattr(api, method)(url, json=body, headers=headers[who])
            got = response.status_code
            problem = response.get_json(silent=True) if got >= 400 else None
            if got != expected:
                wrong.append((operation, who, expected, got, problem))
                continue
            if expected == 403 and (problem or {}).get("code") != "role_required":
                wrong.append((operation, who, expected, got, problem))
            if before is not None and snapshot(db) != before:
                wrong.append((operation, who, expected, got, "a refused call changed state"))
    assert wrong == []

"""Demo data for governance: staff with roles, grants for the demo apps, a pending request,
a citizen's consent and accesses to his data, so that every governance page shows something.

Idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from hub.audit import service as audit_service
from hub.audit.models import AuditEntry
from hub.config import Settings
from hub.datasets import store as datasets_store
from hub.db import Connection, fetch_one
from hub.governance import service, store
from hub.governance.models import Principal
from identity import demo_seed, mfa
from identity.accounts import service as accounts_service
from identity.accounts import store as accounts_store

OPERATOR = Principal.operator("lgsp demo")
STAFF_PASSWORD = "Staff@demo2025"  # noqa: S105 - public demo credential
# Staff sign in to the console at level 2: password and this (public, demo-only) TOTP secret.
STAFF_TOTP_SECRET = "LGSPDEMOSTAFF234LGSPDEMOSTAFF234"  # noqa: S105
STAFF: tuple[dict[str, Any], ...] = (
    {
        "key": "admin",
        "pin": "001080000101",
        "full_name": "Phạm Quản Trị",
        "roles": ("admin",),
        "agency": None,
    },
    {
        "key": "data_owner",
        "pin": "001081000102",
        "full_name": "Đỗ Chủ Dữ Liệu",
        "roles": ("data_owner",),
        "agency": "C06",
    },
    {
        "key": "auditor",
        "pin": "001083000104",
        "full_name": "Hoàng Kiểm Toán",
        "roles": ("auditor",),
        "agency": None,
    },
    {
        "key": "developer",
        "pin": "001084000105",
        "full_name": "Lý Lập Trình",
        "roles": ("developer",),
        "agency": None,
    },
)
CITIZEN_PIN = "001087012345"  # Nguyễn Văn An, known to the demo population registry
CONSENT_TEXT = (
    "Tôi đồng ý để {app} nhận họ tên, ngày sinh và nơi thường trú của tôi từ Cơ sở dữ liệu "
    "quốc gia về dân cư, chỉ để giải quyết thủ tục Đăng ký thường trú (mã 1.001234). "
    "Tôi có thể rút lại sự đồng ý này bất cứ lúc nào tại trang Tài khoản."
)


def _staff(conn: Connection, settings: Settings) -> dict[str, dict[str, Any]]:
    out = {}
    for person in STAFF:
        account = accounts_store.find_by_pin(conn, person["pin"])
        if account is None:
            year = 1900 + int(person["pin"][4:6])
            account = accounts_service.create_citizen(
                conn,
                pin=person["pin"],
                full_name=person["full_name"],
                birth_date=date(year, 1, 1),
                sex="male",
                password=STAFF_PASSWORD,
                level=2,
            )
        if not account.mfa_enabled:
            mfa.enable_totp(conn, account_id=account.id, secret=STAFF_TOTP_SECRET)
        for role in person["roles"]:
            if role not in account.roles:
                service.assign_role(
                    conn,
                    actor=OPERATOR,
                    settings=settings,
                    account_id=account.id,
                    role=role,
                    agency_code=person["agency"],
                )
        out[person["key"]] = {
            "account_id": account.id,
            "pin": person["pin"],
            "full_name": person["full_name"],
            "password": STAFF_PASSWORD,
            "totp_secret": STAFF_TOTP_SECRET,
            "level": 2,
            "roles": list(person["roles"]),
            "agency": person["agency"],
        }
    return out


def seed(
    conn: Connection,
    *,
    settings: Settings,
    clients: Mapping[str, str],
    accounts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Seed governance for the demo; `clients` maps a label to a registered client id.

    `accounts` is what ``identity.demo_seed.seed`` returned (unused beyond the citizen's
    PIN, which is fixed). Returns the staff credentials, grants and the pending request.
    """
    staff = _staff(conn, settings)
    client_ids = [c for c in clients.values() if store.find_client_name(conn, c) is not None]
    loaded = {ds.id for ds in datasets_store.list_datasets(conn)}
    grants = []
    for client_id in client_ids:
        for dataset_id, purposes in (
            ("dan-cu", ["1.001234", "1.004194"]),
            ("doanh-nghiep", ["any"]),
        ):
            if dataset_id not in loaded or store.find_live_grant(conn, client_id, dataset_id):
                continue
            made = service.grant_access(
                conn,
                actor=OPERATOR,
                settings=settings,
                client_id=client_id,
                dataset_id=dataset_id,
                purposes=purposes,
                legal_basis="Luật Cư trú 2020; Nghị định 47/2020/NĐ-CP (dữ liệu mẫu)",
                daily_quota=10_000,
            )
            grants.append(made.id)
    request_id = None
    if client_ids:
        first = client_ids[0]
        developer = staff["developer"]["account_id"]
        store.insert_client_developer(conn, first, developer)
        wanted = "bao-hiem-xa-hoi" if "bao-hiem-xa-hoi" in loaded else "dan-cu"
        if wanted in loaded:
            pending = [
                r
                for r in store.list_requests(conn, status="pending", client_ids=[first])
                if r.dataset_id == wanted
            ]
            if pending:
                request_id = pending[0].id
            else:
                dev = service.principal_for_account(conn, account_id=developer, level=2)
                request_id = service.submit_access_request(
                    conn,
                    actor=dev,
                    settings=settings,
                    client_id=first,
                    dataset_id=wanted,
                    fields=None,
                    purposes=["1.002804"],
                    legal_basis="Luật Việc làm 2013, Điều 46",
                    justification=(
                        "Tra cứu quá trình đóng bảo hiểm khi giải quyết hưởng trợ cấp thất nghiệp."
                    ),
                    contact="lap.trinh@motcua.demo.lgsp.vn",
                ).id
        _citizen_trail(conn, settings, first, "dan-cu" in loaded)
    return {"staff": staff, "grants": grants, "pending_request": request_id}


def _citizen_trail(conn: Connection, settings: Settings, client_id: str, loaded: bool) -> None:
    """A consent of the demo citizen and two accesses to his record, once."""
    citizen = accounts_store.find_by_pin(conn, CITIZEN_PIN)
    if citizen is None or not loaded:
        return
    app = store.find_client_name(conn, client_id) or client_id
    if (
        store.find_live_consent(
            conn,
            account_id=citizen.id,
            client_id=client_id,
            dataset_id="dan-cu",
            purpose="1.001234",
        )
        is None
    ):
        service.record_data_consent(
            conn,
            settings=settings,
            account_id=citizen.id,
            client_id=client_id,
            dataset_id="dan-cu",
            purpose="1.001234",
            fields=["full_name", "birth_date", "permanent_address"],
            text_shown=CONSENT_TEXT.format(app=app),
        )
    hashed = audit_service.subject_hash(settings, CITIZEN_PIN)
    seen = fetch_one(
        conn,
        "SELECT 1 AS x FROM audit_log WHERE subject_hash = %(h)s AND kind = 'data.query' LIMIT 1",
        {"h": hashed},
    )
    if seen is not None:
        return
    key = audit_service.chain_key(settings)
    company = audit_service.subject_hash(settings, demo_seed.ORGANIZATION["tax_code"])
    for subject, dataset_id, purpose, fields, official, ms in (
        (
            hashed,
            "dan-cu",
            "1.001234",
            ("full_name", "birth_date", "permanent_address"),
            "CB-0001",
            41,
        ),
        (
            hashed,
            "dan-cu",
            "1.004194",
            ("full_name", "birth_date", "current_address"),
            "CB-0007",
            37,
        ),
        # The company that Trần Thị Bình represents, looked up for a licence.
        (
            company,
            "doanh-nghiep",
            "2.001610",
            ("tax_code", "name", "status", "head_office"),
            None,
            52,
        ),
    ):
        audit_service.append(
            conn,
            AuditEntry(
                kind="data.query",
                outcome="found",
                request_id=f"demo-{purpose}",
                client_id=client_id,
                official_id=official,
                subject_hash=subject,
                dataset_id=dataset_id,
                dataset_version=1,
                purpose=purpose,
                fields=fields,
                upstream_ms=ms,
                cache_hit=False,
                detail={"demo": True},
            ),
            key=key,
        )

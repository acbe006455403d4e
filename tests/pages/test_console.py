"""The admin console: sign-in at level 2, role checks on every route, decisions, audit."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database, fetch_all
from hub.governance import service
from tests.governance.conftest import AN as AN_PARAMS
from tests.governance.conftest import OPERATOR, App, grant, query
from tests.pages.conftest import SignIn, csrf_of

GET_ROUTES = {
    "/console/requests": {"admin", "owner", "other_owner"},
    "/console/grants": {"admin", "owner", "other_owner"},
    "/console/grants/new": {"admin", "owner", "other_owner"},
    "/console/datasets": {"admin", "owner", "other_owner"},
    "/console/datasets/dan-cu": {"admin", "owner"},
    "/console/audit": {"admin", "auditor"},
    "/console/audit.csv": {"admin", "auditor"},
    "/console/clients": {"admin"},
    "/console/organizations": {"admin"},
    "/console/accounts": {"admin"},
    "/console/holidays": {"admin"},
}


def pending_request(db: Database, settings: Settings, agency: App, staff: dict[str, str]) -> str:
    with db.transaction() as conn:
        dev = service.principal_for_account(conn, account_id=staff["developer"], level=1)
        made = service.submit_access_request(
            conn,
            actor=dev,
            settings=settings,
            client_id=agency.client_id,
            dataset_id="dan-cu",
            fields=["full_name", "birth_date", "sex", "permanent_address"],
            purposes=["1.001234", "1.004194"],
            legal_basis="Luật Cư trú 2020",
            justification="Giải quyết thủ tục đăng ký thường trú.",
            contact="dev@motcua.example.vn",
        )
    return made.id


def test_console_needs_a_level_2_sign_in(
    api: FlaskClient, staff: dict[str, str], sign_in: SignIn
) -> None:
    response = api.get("/console/requests?status=pending")
    assert response.status_code == 303
    assert response.headers["Location"] == (
        "/login?next=%2Fconsole%2Frequests%3Fstatus%3Dpending&acr=2"
    )
    weak = sign_in(staff["admin"], acr=1).get("/console/audit")
    assert weak.status_code == 303 and weak.headers["Location"].endswith("&acr=2")


@pytest.mark.parametrize("role", ["admin", "owner", "other_owner", "auditor"])
def test_every_route_checks_the_role(
    role: str, staff: dict[str, str], sign_in: SignIn, agency: App
) -> None:
    browser = sign_in(staff[role])
    for path, allowed in GET_ROUTES.items():
        response = browser.get(path)
        if role in allowed:
            assert response.status_code == 200, (role, path, response.status_code)
        else:
            assert response.status_code == 403, (role, path, response.status_code)
            assert "text/html" in response.content_type


def test_developers_go_to_the_portal_and_citizens_are_refused(
    staff: dict[str, str], people: dict[str, str], sign_in: SignIn
) -> None:
    dev = sign_in(staff["developer"]).get("/console/requests")
    assert dev.status_code == 303 and dev.headers["Location"] == "/developers"
    citizen = sign_in(people["citizen_level2"]).get("/console")
    assert citizen.status_code == 403


def test_posts_check_roles_and_csrf(
    db: Database, settings: Settings, agency: App, staff: dict[str, str], sign_in: SignIn
) -> None:
    request_id = pending_request(db, settings, agency, staff)
    owner = sign_in(staff["owner"])
    page = owner.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert csrf_of(page)
    url = f"/console/requests/{request_id}/approve"
    body = {"fields": ["full_name"], "purposes": ["1.001234"]}
    assert owner.post(url, data=body).status_code == 400
    assert owner.post(url, data={**body, "csrf_token": "forged"}).status_code == 400
    # The owner of another agency, and the auditor, may not decide on dan-cu (C06).
    for role in ("other_owner", "auditor"):
        other = sign_in(staff[role])
        their = csrf_of(other.get("/account").get_data(as_text=True))
        response = other.post(url, data={**body, "csrf_token": their})
        assert response.status_code == 403, role
        refused = other.post(
            f"/console/requests/{request_id}/refuse", data={"reasons": "x", "csrf_token": their}
        )
        assert refused.status_code == 403, role
    with db.transaction() as conn:
        assert service.get_access_request(conn, actor=OPERATOR, request_id=request_id).status == (
            "pending"
        )


def test_approve_narrower_grants_only_the_chosen_fields(
    api: FlaskClient,
    db: Database,
    settings: Settings,
    agency: App,
    staff: dict[str, str],
    sign_in: SignIn,
) -> None:
    request_id = pending_request(db, settings, agency, staff)
    owner = sign_in(staff["owner"])
    inbox = owner.get("/console/requests").get_data(as_text=True)
    assert "Chờ xử lý" in inbox and "Tra cứu thông tin công dân" in inbox
    page = owner.get(f"/console/requests/{request_id}").get_data(as_text=True)
    assert "Hạn trả lời" in page and "dev@motcua.example.vn" in page
    done = owner.post(
        f"/console/requests/{request_id}/approve",
        data={
            "csrf_token": csrf_of(page),
            "fields": ["full_name", "birth_date"],
            "purposes": ["1.001234"],
            "daily_quota": "100",
        },
    )
    assert done.status_code == 303, done.get_data(as_text=True)
    shown = owner.get(done.headers["Location"]).get_data(as_text=True)
    assert "Đã chấp thuận" in shown
    with db.transaction() as conn:
        [made] = service.list_grants(conn, actor=OPERATOR, client_id=agency.client_id)
    assert made.fields == ("full_name", "birth_date") and made.purposes == ("1.001234",)
    assert made.daily_quota == 100 and made.access_request_id == request_id
    answer = query(api, "dan-cu", AN_PARAMS, token=agency.token("dataset:dan-cu"))
    assert answer.status_code == 200, answer.get_json()
    assert set(answer.get_json()["data"]) == {"full_name", "birth_date"}
    other_purpose = query(
        api, "dan-cu", AN_PARAMS, token=agency.token("dataset:dan-cu"), purpose="1.004194"
    )
    assert other_purpose.status_code == 403


def test_approve_cannot_widen_and_needs_a_choice(
    db: Database, settings: Settings, agency: App, staff: dict[str, str], sign_in: SignIn
) -> None:
    request_id = pending_request(db, settings, agency, staff)
    owner = sign_in(staff["owner"])
    token = csrf_of(owner.get(f"/console/requests/{request_id}").get_data(as_text=True))
    url = f"/console/requests/{request_id}/approve"
    wider = owner.post(
        url, data={"csrf_token": token, "fields": ["religion"], "purposes": ["1.001234"]}
    )
    assert wider.status_code == 400 and "religion" in wider.get_data(as_text=True)
    empty = owner.post(url, data={"csrf_token": token, "purposes": ["1.001234"]})
    assert empty.status_code == 400
    assert "Chọn ít nhất một trường dữ liệu." in empty.get_data(as_text=True)
    with db.transaction() as conn:
        assert service.list_grants(conn, actor=OPERATOR, client_id=agency.client_id) == []


def test_refuse_requires_written_reasons(
    db: Database, settings: Settings, agency: App, staff: dict[str, str], sign_in: SignIn
) -> None:
    request_id = pending_request(db, settings, agency, staff)
    admin = sign_in(staff["admin"])
    token = csrf_of(admin.get(f"/console/requests/{request_id}").get_data(as_text=True))
    url = f"/console/requests/{request_id}/refuse"
    for reasons in ("", "   "):
        response = admin.post(url, data={"csrf_token": token, "reasons": reasons})
        assert response.status_code == 400
        assert "Từ chối phải nêu rõ lý do bằng văn bản." in response.get_data(as_text=True)
    reason = "<b>Không</b> thuộc phạm vi thủ tục'; DROP TABLE grants; --"
    done = admin.post(url, data={"csrf_token": token, "reasons": reason, "legal_basis": "Điều 14"})
    assert done.status_code == 303
    shown = admin.get(done.headers["Location"]).get_data(as_text=True)
    assert "Đã từ chối" in shown and "<b>Không</b>" not in shown and "&lt;b&gt;Không" in shown
    with db.transaction() as conn:
        decided = service.get_access_request(conn, actor=OPERATOR, request_id=request_id)
        assert decided.status == "refused" and decided.decision_reason == reason
        assert fetch_all(conn, "SELECT count(*) AS n FROM grants") == [{"n": 0}]


def test_grants_create_and_revoke(
    api: FlaskClient,
    db: Database,
    settings: Settings,
    agency: App,
    staff: dict[str, str],
    sign_in: SignIn,
) -> None:
    owner = sign_in(staff["owner"])
    form = owner.get("/console/grants/new").get_data(as_text=True)
    assert "dan-cu" in form and "doanh-nghiep" not in form  # only his agency's datasets
    created = owner.post(
        "/console/grants",
        data={
            "csrf_token": csrf_of(form),
            "client_id": agency.client_id,
            "dataset_id": "dan-cu",
            "fields": ["dan-cu:full_name", "dan-cu:sex", "doanh-nghiep:name"],
            "purposes": ["1.001234"],
            "legal_basis": "Luật Cư trú 2020",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    listed = owner.get("/console/grants").get_data(as_text=True)
    assert "full_name, sex" in listed and "Đang hiệu lực" in listed
    with db.transaction() as conn:
        [made] = service.list_grants(conn, actor=OPERATOR, client_id=agency.client_id)
    token = agency.token("dataset:dan-cu")
    assert query(api, "dan-cu", AN_PARAMS, token=token).status_code == 200
    # Another agency's owner cannot revoke it; its owner can, with a reason.
    other = sign_in(staff["other_owner"])
    their = csrf_of(other.get("/console/grants").get_data(as_text=True))
    assert made.id not in other.get("/console/grants").get_data(as_text=True)
    forbidden = other.post(f"/console/grants/{made.id}/revoke", data={"csrf_token": their})
    assert forbidden.status_code == 403
    revoked = owner.post(
        f"/console/grants/{made.id}/revoke",
        data={"csrf_token": csrf_of(listed), "reason": "Hết nhu cầu"},
    )
    assert revoked.status_code == 303
    refused = query(api, "dan-cu", AN_PARAMS, token=token)
    assert refused.status_code == 403 and refused.get_json()["code"] == "not_permitted"
    history = owner.get("/console/grants?include_revoked=1").get_data(as_text=True)
    assert "Đã thu hồi" in history and "Hết nhu cầu" in history


def test_a_grant_from_a_later_day_shows_as_not_yet_valid(
    api: FlaskClient, db: Database, agency: App, staff: dict[str, str], sign_in: SignIn
) -> None:
    owner = sign_in(staff["owner"])
    form = owner.get("/console/grants/new").get_data(as_text=True)
    assert 'name="valid_from"' in form
    created = owner.post(
        "/console/grants",
        data={
            "csrf_token": csrf_of(form),
            "client_id": agency.client_id,
            "dataset_id": "dan-cu",
            "fields": ["dan-cu:full_name"],
            "purposes": ["1.001234"],
            "legal_basis": "Luật Cư trú 2020",
            "valid_from": "2099-01-01",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    assert "Chưa hiệu lực" in owner.get("/console/grants").get_data(as_text=True)
    with db.transaction() as conn:
        [made] = service.list_grants(conn, actor=OPERATOR, client_id=agency.client_id)
    assert made.valid_from is not None
    assert made.valid_from.isoformat() == "2098-12-31T17:00:00+00:00"  # 00:00 in Hà Nội
    refused = query(api, "dan-cu", AN_PARAMS, token=agency.token("dataset:dan-cu"))
    assert refused.status_code == 403 and refused.get_json()["code"] == "not_permitted"


def test_invalid_grant_form_is_shown_again(
    agency: App, staff: dict[str, str], sign_in: SignIn
) -> None:
    admin = sign_in(staff["admin"])
    token = csrf_of(admin.get("/console/grants/new").get_data(as_text=True))
    bad = admin.post(
        "/console/grants",
        data={"csrf_token": token, "client_id": "<i>nope</i>", "dataset_id": "dan-cu"},
    )
    assert bad.status_code == 404 or bad.status_code == 400
    assert "<i>nope</i>" not in bad.get_data(as_text=True)


def audit_setup(api: FlaskClient, db: Database, settings: Settings, agency: App) -> None:
    grant(db, settings, agency.client_id, "dan-cu", purposes=["1.001234"])
    token = agency.token("dataset:dan-cu")
    assert query(api, "dan-cu", AN_PARAMS, token=token).status_code == 200
    assert query(api, "dan-cu", AN_PARAMS, token=token, purpose="1.004194").status_code == 403


def test_audit_search_filters_and_csv(
    api: FlaskClient,
    db: Database,
    settings: Settings,
    agency: App,
    staff: dict[str, str],
    sign_in: SignIn,
) -> None:
    audit_setup(api, db, settings, agency)
    auditor = sign_in(staff["auditor"])
    found = auditor.get(
        "/console/audit?kind=data.query&outcome=found&subject=" + AN_PARAMS["so_dinh_danh"]
    ).get_data(as_text=True)
    assert "1 bản ghi phù hợp" in found and "1.001234" in found
    assert AN_PARAMS["so_dinh_danh"] not in found.split('name="subject"')[1].split("</table>")[1]
    refused = auditor.get("/console/audit?outcome=refused").get_data(as_text=True)
    assert "purpose_not_permitted" in refused
    window = auditor.get("/console/audit?since=2000-01-01T00:00&until=2000-01-02T00:00")
    assert "0 bản ghi phù hợp" in window.get_data(as_text=True)
    bad_date = auditor.get("/console/audit?since=yesterday")
    assert bad_date.status_code == 400
    exported = auditor.get("/console/audit.csv?kind=data.query&dataset_id=dan-cu&purpose=1.001234")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["outcome"] for r in rows] == ["found"] and rows[0]["client_id"] == agency.client_id


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "'; DROP TABLE audit_log; --",
        '" onmouseover="alert(1)',
        "1' OR '1'='1",
    ],
)
def test_markup_and_sql_in_filters_are_harmless(
    hostile: str,
    api: FlaskClient,
    db: Database,
    settings: Settings,
    agency: App,
    staff: dict[str, str],
    sign_in: SignIn,
) -> None:
    audit_setup(api, db, settings, agency)
    admin = sign_in(staff["admin"])
    params: dict[str, Any] = {
        k: hostile for k in ("client_id", "dataset_id", "purpose", "outcome", "kind", "subject")
    }
    page = admin.get("/console/audit", query_string=params)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert hostile not in html and "0 bản ghi phù hợp" in html
    exported = admin.get("/console/audit.csv", query_string=params)
    assert exported.get_data(as_text=True).count("\r\n") == 1  # the header only
    for path in ("/console/grants", "/console/requests"):
        shown = admin.get(
            path, query_string={"client_id": hostile, "dataset_id": hostile, "status": hostile}
        )
        assert shown.status_code == 200 and hostile not in shown.get_data(as_text=True)
    with db.transaction() as conn:
        assert fetch_all(conn, "SELECT count(*) AS n FROM audit_log WHERE kind = 'data.query'") == [
            {"n": 2}
        ]


def test_dataset_disable_and_enable(
    api: FlaskClient,
    db: Database,
    settings: Settings,
    agency: App,
    staff: dict[str, str],
    sign_in: SignIn,
) -> None:
    grant(db, settings, agency.client_id, "dan-cu", purposes=["1.001234"])
    owner = sign_in(staff["owner"])
    page = owner.get("/console/datasets/dan-cu").get_data(as_text=True)
    assert "Đang bật" in page and "TraCuuCongDan" in page and "dân tộc" in page.lower()
    other = sign_in(staff["other_owner"])
    their = csrf_of(other.get("/console/datasets").get_data(as_text=True))
    assert (
        other.post(
            "/console/datasets/dan-cu/enabled", data={"csrf_token": their, "enabled": "0"}
        ).status_code
        == 403
    )
    off = owner.post(
        "/console/datasets/dan-cu/enabled", data={"csrf_token": csrf_of(page), "enabled": "0"}
    )
    assert off.status_code == 303
    token = agency.token("dataset:dan-cu")
    assert query(api, "dan-cu", AN_PARAMS, token=token).status_code != 200
    assert "Đang tắt" in owner.get("/console/datasets/dan-cu").get_data(as_text=True)
    on = owner.post(
        "/console/datasets/dan-cu/enabled", data={"csrf_token": csrf_of(page), "enabled": "1"}
    )
    assert on.status_code == 303
    assert query(api, "dan-cu", AN_PARAMS, token=token).status_code == 200
    with db.transaction() as conn:
        kinds = [r["kind"] for r in fetch_all(conn, "SELECT kind FROM audit_log ORDER BY seq")]
    assert "dataset.disable" in kinds and "dataset.enable" in kinds


def test_admin_lists_and_english(staff: dict[str, str], sign_in: SignIn, agency: App) -> None:
    admin = sign_in(staff["admin"])
    clients_page = admin.get("/console/clients").get_data(as_text=True)
    assert agency.client_id in clients_page and "Lý Lập Trình" in clients_page
    accounts_page = admin.get("/console/accounts").get_data(as_text=True)
    assert "Đỗ Chủ Dữ Liệu" in accounts_page and "data_owner:C06" in accounts_page
    assert "001080000101" not in accounts_page  # PINs are masked
    english = admin.get("/console/requests?lang=en").get_data(as_text=True)
    assert "Access requests" in english and "Platform administrator" in english


def test_admin_declares_and_withdraws_a_holiday(
    db: Database, staff: dict[str, str], sign_in: SignIn
) -> None:
    admin = sign_in(staff["admin"])
    page = admin.get("/console/holidays?year=2026").get_data(as_text=True)
    assert "17/02/2026" in page and "Tết Nguyên đán" in page  # seeded by migration 0007
    assert "27/04/2026" in page and "Nghỉ bù" in page  # Giỗ Tổ on a Sunday
    token = csrf_of(page)
    form = {"day": "2026-09-01", "name_vi": "Quốc khánh (nghỉ thêm)", "name_en": "National Day"}
    assert admin.post("/console/holidays", data=form).status_code == 400  # no CSRF token
    done = admin.post("/console/holidays", data={**form, "csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"].endswith("year=2026")
    listed = admin.get("/console/holidays?year=2026&lang=en").get_data(as_text=True)
    assert "01/09/2026" in listed and "National Day" in listed and "Declared" in listed
    bad = admin.post("/console/holidays", data={**form, "day": "31/02/2026", "csrf_token": token})
    assert bad.status_code == 400 and "alert-error" in bad.get_data(as_text=True)
    owner = sign_in(staff["owner"])
    theirs = csrf_of(owner.get("/console/requests").get_data(as_text=True))
    refused = owner.post("/console/holidays/2026-09-01/remove", data={"csrf_token": theirs})
    assert refused.status_code == 403
    removed = admin.post("/console/holidays/2026-09-01/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert "01/09/2026" not in admin.get("/console/holidays?year=2026").get_data(as_text=True)
    with db.transaction() as conn:
        kinds = [r["kind"] for r in fetch_all(conn, "SELECT kind FROM audit_log ORDER BY seq")]
    assert "holiday.declared" in kinds and "holiday.removed" in kinds

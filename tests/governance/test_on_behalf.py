"""On behalf of a signed-in citizen: his own record only, with consent, until withdrawn."""

from __future__ import annotations

from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database
from hub.governance import service
from tests.governance.conftest import (
    AN,
    AN_PIN,
    BUSINESS_TAX_CODE,
    OTHER,
    App,
    audit_rows,
    grant,
    query,
    user_token,
)

CONSENT_TEXT = (
    "Tôi đồng ý để Một cửa điện tử nhận họ tên và ngày sinh của tôi từ CSDL quốc gia về dân cư "
    "cho thủ tục Đăng ký thường trú (1.001234)."
)


def consent(db: Database, settings: Settings, account_id: str, client_id: str, **kw: object) -> str:
    values = {
        "dataset_id": "dan-cu",
        "purpose": "1.001234",
        "fields": ["full_name", "birth_date", "pin"],
        "text_shown": CONSENT_TEXT,
        **kw,
    }
    with db.transaction() as conn:
        made = service.record_data_consent(
            conn, settings=settings, account_id=account_id, client_id=client_id, **values
        )
    return made.id


def test_citizen_data_needs_consent_and_stops_at_withdrawal(
    api: FlaskClient, agency: App, db: Database, settings: Settings, people: dict[str, str]
) -> None:
    an = people["citizen_level1"]
    grant(db, settings, agency.client_id, "dan-cu", fields=["full_name", "birth_date", "sex"])
    token = user_token(db, settings, agency.client_id, an, "openid dataset:dan-cu")

    refused = query(api, "dan-cu", {}, token=token)
    assert refused.status_code == 403 and refused.get_json()["code"] == "consent_required"

    consent_id = consent(db, settings, an, agency.client_id)
    # No params at all: the hub fills in his PIN, name and birth date.
    own = query(api, "dan-cu", {}, token=token)
    assert own.status_code == 200, own.get_json()
    body = own.get_json()
    # Granted ∩ consented: sex was granted but not consented, pin consented but not granted.
    assert body["data"] == {"full_name": "Nguyễn Văn An", "birth_date": "1987-03-15"}
    assert "sex" in body["meta"]["fields_withheld"] and "pin" in body["meta"]["fields_withheld"]
    # His own params, even written without diacritics, are accepted.
    same = {"so_dinh_danh": AN_PIN, "ho_va_ten": "nguyen van an"}
    assert query(api, "dan-cu", same, token=token).status_code == 200
    # Anyone else is refused.
    other = query(api, "dan-cu", OTHER, token=token)
    assert other.status_code == 403 and other.get_json()["code"] == "subject_mismatch"
    renamed = query(api, "dan-cu", {**AN, "ho_va_ten": "Trần Thị Bình"}, token=token)
    assert renamed.get_json()["code"] == "subject_mismatch"
    # Consent is for one purpose.
    elsewhere = query(api, "dan-cu", {}, token=token, purpose="1.004194")
    assert elsewhere.get_json()["code"] == "consent_required"

    with db.transaction() as conn:
        listed = service.list_data_consents(conn, an)
        assert [c.id for c in listed] == [consent_id] and listed[0].client_name
        service.withdraw_data_consent(conn, settings=settings, account_id=an, consent_id=consent_id)
    after = query(api, "dan-cu", {}, token=token)
    assert after.status_code == 403 and after.get_json()["code"] == "consent_required"

    rows = audit_rows(db)
    assert [(r["outcome"], r["error_code"]) for r in rows] == [
        ("refused", "consent_required"),
        ("found", None),
        ("found", None),
        ("refused", "subject_mismatch"),
        ("refused", "subject_mismatch"),
        ("refused", "consent_required"),
        ("refused", "consent_required"),
    ]
    an_hash = rows[1]["subject_hash"]
    assert all(r["subject_hash"] == an_hash for r in rows)
    assert all(r["actor"] and r["detail"].get("on_behalf") for r in rows)
    assert [r["kind"] for r in audit_rows(db, "consent.record")] == ["consent.record"]
    assert len(audit_rows(db, "consent.withdraw")) == 1


def test_consent_api_for_the_citizen(
    api: FlaskClient, agency: App, db: Database, settings: Settings, people: dict[str, str]
) -> None:
    an = people["citizen_level1"]
    grant(db, settings, agency.client_id, "dan-cu")
    consent_id = consent(db, settings, an, agency.client_id)
    token = user_token(db, settings, agency.client_id, an, "openid dataset:dan-cu my_data")
    headers = {"Authorization": f"Bearer {token}"}
    listed = api.get("/api/v1/me/data-consents", headers=headers).get_json()["data_consents"]
    assert listed[0]["id"] == consent_id and listed[0]["text_shown"] == CONSENT_TEXT
    # An app's token for the data alone is not the citizen's key to his consents.
    data_only = user_token(db, settings, agency.client_id, an, "openid dataset:dan-cu")
    refused = api.post(
        f"/api/v1/me/data-consents/{consent_id}/withdraw",
        headers={"Authorization": f"Bearer {data_only}"},
    )
    assert refused.status_code == 403 and refused.get_json()["code"] == "insufficient_scope"
    other = user_token(db, settings, agency.client_id, people["citizen_level2"], "openid my_data")
    stolen = api.post(
        f"/api/v1/me/data-consents/{consent_id}/withdraw",
        headers={"Authorization": f"Bearer {other}"},
    )
    assert stolen.status_code == 404
    done = api.post(f"/api/v1/me/data-consents/{consent_id}/withdraw", headers=headers)
    assert done.status_code == 200
    assert query(api, "dan-cu", {}, token=token).get_json()["code"] == "consent_required"


def test_representative_gets_only_his_organization(
    api: FlaskClient, agency: App, db: Database, settings: Settings, people: dict[str, str]
) -> None:
    # Bình represents the demo company (identity.demo_seed); An acts for no organization.
    binh = people["citizen_level2"]
    grant(db, settings, agency.client_id, "doanh-nghiep")
    consent(
        db,
        settings,
        binh,
        agency.client_id,
        dataset_id="doanh-nghiep",
        purpose="2.001610",
        fields=["tax_code", "name", "status"],
    )
    org = {"tax_code": BUSINESS_TAX_CODE, "name": "Công ty TNHH Phần mềm Sông Hồng"}
    acting = user_token(
        db, settings, agency.client_id, binh, "openid organization dataset:doanh-nghiep", org=org
    )
    own = query(api, "doanh-nghiep", {}, token=acting, purpose="2.001610")
    assert own.status_code == 200, own.get_json()
    assert own.get_json()["data"]["tax_code"] == BUSINESS_TAX_CODE
    assert set(own.get_json()["data"]) == {"tax_code", "name", "status"}
    other = query(
        api, "doanh-nghiep", {"ma_so_thue": "0101234565"}, token=acting, purpose="2.001610"
    )
    assert other.get_json()["code"] == "subject_mismatch"
    personal = user_token(db, settings, agency.client_id, binh, "openid dataset:doanh-nghiep")
    alone = query(api, "doanh-nghiep", {}, token=personal, purpose="2.001610")
    assert alone.status_code == 403 and alone.get_json()["code"] == "subject_mismatch"
    # A token naming an organization he does not act for.
    forged = user_token(
        db,
        settings,
        agency.client_id,
        people["citizen_level1"],
        "openid organization dataset:doanh-nghiep",
        org=org,
    )
    assert query(api, "doanh-nghiep", {}, token=forged, purpose="2.001610").status_code == 403


def test_who_used_my_data(
    api: FlaskClient, make_app: object, db: Database, settings: Settings, people: dict[str, str]
) -> None:
    an = people["citizen_level1"]
    portal = make_app("Cổng dịch vụ công tỉnh")  # type: ignore[operator]
    grant(
        db,
        settings,
        portal.client_id,
        "dan-cu",
        fields=["full_name", "permanent_address"],
        purposes=["1.001234"],
    )
    assert query(api, "dan-cu", AN, token=portal.token(), purpose="1.001234").status_code == 200
    assert query(api, "dan-cu", OTHER, token=portal.token()).status_code == 200
    assert query(api, "dan-cu", AN, token=portal.token(), purpose="9.999").status_code == 403
    signed_in = user_token(db, settings, portal.client_id, an, "openid")
    without_scope = api.get(
        "/api/v1/me/data-access", headers={"Authorization": f"Bearer {signed_in}"}
    )
    assert without_scope.status_code == 403
    assert without_scope.get_json()["code"] == "insufficient_scope"
    token = user_token(db, settings, portal.client_id, an, "openid my_data")
    response = api.get("/api/v1/me/data-access", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    [seen] = response.get_json()["data_access"]
    assert seen["client_name"] == "Cổng dịch vụ công tỉnh"
    assert seen["dataset_title"] == "Tra cứu thông tin công dân (CSDL quốc gia về dân cư)"
    assert seen["purpose"] == "1.001234" and seen["purpose_name"] == "Đăng ký thường trú"
    assert sorted(seen["fields"]) == ["full_name", "permanent_address"]
    assert seen["on_behalf"] is False
    with db.transaction() as conn:
        assert len(service.list_data_access(conn, settings=settings, account_id=an)) == 1
    app_only = api.get(
        "/api/v1/me/data-access", headers={"Authorization": f"Bearer {portal.token()}"}
    )
    assert app_only.status_code == 403

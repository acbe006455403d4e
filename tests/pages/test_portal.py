"""The developer portal: public catalogue and dataset pages, request access, my requests, my
apps."""

from __future__ import annotations

import base64
import re

from flask.testing import FlaskClient

from hub.audit import service as audit_service
from hub.audit.models import AuditQuery
from hub.db import Database
from hub.governance import service
from tests.governance.conftest import OPERATOR, App, AppFactory
from tests.pages.conftest import SignIn, csrf_of


def test_catalogue_and_dataset_pages_are_public(api: FlaskClient) -> None:
    catalogue = api.get("/developers").get_data(as_text=True)
    assert "Tra cứu thông tin công dân" in catalogue and "/developers/datasets/dan-cu" in catalogue
    page = api.get("/developers/datasets/dan-cu")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sensitive = {
        row.split("</td>")[0].rsplit(">", 1)[1]
        for row in html.split('class="field-row sensitive"')[1:]
    }
    assert sensitive == {"ethnicity", "religion"}
    assert "so_dinh_danh" in html and "^[0-9]{12}$" in html and "001087012345" in html
    assert "/api/openapi.json" in html and "/api/docs" in html
    assert "X-Purpose" in html and "&#34;status&#34;: &#34;found&#34;" in html
    assert api.get("/developers/datasets/%3Cscript%3E").status_code == 404
    english = api.get("/developers/datasets/dan-cu?lang=en").get_data(as_text=True)
    assert "Citizen lookup" in english and "Sensitive data" in english


def test_request_access_and_my_requests(
    api: FlaskClient,
    db: Database,
    agency: App,
    staff: dict[str, str],
    people: dict[str, str],
    sign_in: SignIn,
) -> None:
    anonymous = api.get("/developers/datasets/dan-cu/request")
    assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/login")
    citizen = sign_in(people["citizen_level1"], acr=1)
    assert citizen.get("/developers/datasets/dan-cu/request").status_code == 403

    dev = sign_in(staff["developer"], acr=1)
    form = dev.get("/developers/datasets/dan-cu/request").get_data(as_text=True)
    assert agency.client_id in form
    token = csrf_of(form)
    body = {
        "client_id": agency.client_id,
        "fields": ["full_name", "birth_date"],
        "purposes": ["1.001234"],
        "legal_basis": "Luật Cư trú 2020",
        "justification": "<script>x</script> Đăng ký thường trú",
        "contact": "dev@motcua.example.vn",
    }
    assert dev.post("/developers/datasets/dan-cu/request", data=body).status_code == 400
    bad = dev.post(
        "/developers/datasets/dan-cu/request",
        data={**body, "csrf_token": token, "contact": "not-an-email"},
    )
    assert bad.status_code == 400 and "e-mail" in bad.get_data(as_text=True)
    assert "<script>x</script>" not in bad.get_data(as_text=True)
    # Another app than his own is refused.
    foreign = dev.post(
        "/developers/datasets/dan-cu/request",
        data={**body, "csrf_token": token, "client_id": "someone-else"},
    )
    assert foreign.status_code == 403
    sent = dev.post("/developers/datasets/dan-cu/request", data={**body, "csrf_token": token})
    assert sent.status_code == 303 and sent.headers["Location"] == "/developers/requests"
    mine = dev.get("/developers/requests").get_data(as_text=True)
    assert "Chờ xử lý" in mine and "full_name, birth_date" in mine and "Quá hạn" not in mine
    with db.transaction() as conn:
        [made] = service.list_access_requests(conn, actor=OPERATOR)
    assert made.fields == ("full_name", "birth_date") and made.purposes == ("1.001234",)
    assert made.justification == "<script>x</script> Đăng ký thường trú"


def _token_status(app: App, client_id: str, secret: str) -> int:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return app.http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ).status_code


def test_a_developer_sees_his_apps_and_rotates_their_secret(
    api: FlaskClient,
    db: Database,
    agency: App,
    make_app: AppFactory,
    staff: dict[str, str],
    people: dict[str, str],
    sign_in: SignIn,
) -> None:
    other = make_app("Ứng dụng của cơ quan khác")
    assert api.get("/developers/apps").status_code == 303  # sign in first
    citizen = sign_in(people["citizen_level1"], acr=1)
    assert citizen.get("/developers/apps").status_code == 403

    dev = sign_in(staff["developer"], acr=1)
    page = dev.get("/developers/apps").get_data(as_text=True)
    assert agency.client_id in page and other.client_id not in page
    assert "Cấp khóa bí mật mới" in page and "Ứng dụng của tôi" in page
    token = csrf_of(page)
    # Without the CSRF token, or for an app he does not develop: refused, nothing changes.
    assert dev.post(f"/developers/apps/{agency.client_id}/secret").status_code == 400
    foreign = dev.post(f"/developers/apps/{other.client_id}/secret", data={"csrf_token": token})
    assert foreign.status_code == 403
    assert _token_status(other, other.client_id, other.secret) == 200

    rotated = dev.post(f"/developers/apps/{agency.client_id}/secret", data={"csrf_token": token})
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    html = rotated.get_data(as_text=True)
    match = re.search(r'id="new-secret"[^>]*value="([^"]+)"', html)
    assert match, html
    new_secret = match.group(1)
    assert _token_status(agency, agency.client_id, agency.secret) == 401
    assert _token_status(agency, agency.client_id, new_secret) == 200
    assert dev.get("/developers/apps").get_data(as_text=True).count(new_secret) == 0
    with db.transaction() as conn:
        records, _ = audit_service.search(conn, AuditQuery(kind="client.secret_rotated"))
    assert [r.client_id for r in records] == [agency.client_id]

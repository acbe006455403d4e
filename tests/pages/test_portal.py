"""The developer portal: public catalogue and dataset pages, request access, my requests."""

from __future__ import annotations

from flask.testing import FlaskClient

from hub.db import Database
from hub.governance import service
from tests.governance.conftest import OPERATOR, App
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

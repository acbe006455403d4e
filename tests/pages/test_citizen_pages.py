"""The citizen's pages: the data-consent screen and "who used my data" on /account."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

from flask.testing import FlaskClient

from hub.config import Settings
from hub.db import Database, fetch_all
from hub.governance import service
from tests.governance.conftest import App, grant, query, user_token
from tests.pages.conftest import RETURN_TO, SignIn, csrf_of

ASK = {
    "dataset": "dan-cu",
    "purpose": "1.001234",
    "fields": "full_name birth_date permanent_address",
    "return_to": RETURN_TO,
    "state": "s-123",
}


def consent_url(app_id: str, **overrides: str) -> str:
    return "/consent/data?" + urlencode({"client_id": app_id, **ASK, **overrides})


def agree(
    browser: FlaskClient, client_id: str, **overrides: str
) -> tuple[str, dict[str, list[str]]]:
    """Open the consent screen and press "Đồng ý"; return the page and the redirect params."""
    page = browser.get(consent_url(client_id, **overrides))
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    form = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
    form = {
        k: v.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
        for k, v in form.items()
    }
    answer = browser.post("/consent/data", data={**form, "decision": "allow"})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    location = answer.headers["Location"]
    assert location.startswith(RETURN_TO + "?")
    return html, parse_qs(urlsplit(location).query)


def test_consent_then_who_used_my_data_then_withdraw(
    api: FlaskClient,
    agency: App,
    db: Database,
    settings: Settings,
    people: dict[str, str],
    sign_in: SignIn,
) -> None:
    an = people["citizen_level1"]
    grant(
        db,
        settings,
        agency.client_id,
        "dan-cu",
        fields=["full_name", "birth_date", "permanent_address", "sex"],
        purposes=["1.001234"],
        legal_basis="Luật Cư trú 2020",
    )
    browser = sign_in(an, acr=1)
    html, back = agree(browser, agency.client_id)
    # The screen says who asks, which data, for which procedure, on which basis.
    assert "Một cửa điện tử" in html and "Đăng ký thường trú" in html and "1.001234" in html
    assert "Họ và tên" in html and "Ngày sinh" in html and "Luật Cư trú 2020" in html
    assert "91/2025" in html
    assert back["consent"] == ["granted"] and back["state"] == ["s-123"]
    with db.transaction() as conn:
        [consent] = service.list_data_consents(conn, an)
    assert consent.id == back["consent_id"][0]
    assert consent.fields == ("full_name", "birth_date", "permanent_address")
    # Exactly the text shown is recorded.
    assert consent.text_shown in html.replace("&#34;", '"').replace("&#39;", "'")
    assert consent.text_shown.startswith("Tôi đồng ý để ứng dụng «Một cửa điện tử»")

    token = user_token(db, settings, agency.client_id, an, "openid dataset:dan-cu")
    first = query(api, "dan-cu", {}, token=token, **{"X-Official-Id": "CB-0042"})
    assert first.status_code == 200, first.get_json()
    assert set(first.get_json()["data"]) == {"full_name", "birth_date", "permanent_address"}

    page = browser.get("/account").get_data(as_text=True)
    section = page[page.index('id="section-data_access"') :]
    assert "Ai đã sử dụng dữ liệu của tôi" in section
    row = section[section.index('class="data-access"') :]
    row = row[: row.index("</tr>")]
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", row)
    assert "Một cửa điện tử" in row and "Tra cứu thông tin công dân" in row
    assert "Đăng ký thường trú" in row and "(1.001234)" in row
    assert "Họ và tên" in row and "Ngày sinh" in row and "Đã cung cấp dữ liệu" in row
    assert "CB-0042" in row

    # In English, on a page of its own.
    english = browser.get("/account/data-access?lang=en").get_data(as_text=True)
    assert "Who used my data" in english and "Permanent residence registration" in english
    assert "Full name" in english

    # Withdrawing needs the form's CSRF token.
    url = f"/account/data-consents/{consent.id}/withdraw"
    assert browser.post(url).status_code == 400
    assert browser.post(url, data={"csrf_token": "forged"}).status_code == 400
    assert query(api, "dan-cu", {}, token=token).status_code == 200
    done = browser.post(url, data={"csrf_token": csrf_of(page)})
    assert done.status_code == 303 and done.headers["Location"].startswith("/account")
    after = browser.get("/account?lang=vi").get_data(as_text=True)
    assert "Đã rút lại sự đồng ý" in after and "đã rút lại lúc" in after
    refused = query(api, "dan-cu", {}, token=token)
    assert refused.status_code == 403 and refused.get_json()["code"] == "consent_required"


def test_another_citizen_cannot_withdraw_my_consent(
    agency: App, db: Database, settings: Settings, people: dict[str, str], sign_in: SignIn
) -> None:
    an, binh = people["citizen_level1"], people["citizen_level2"]
    browser = sign_in(an, acr=1)
    _, back = agree(browser, agency.client_id)
    other = sign_in(binh, acr=1)
    token = csrf_of(other.get("/account").get_data(as_text=True))
    stolen = other.post(
        f"/account/data-consents/{back['consent_id'][0]}/withdraw", data={"csrf_token": token}
    )
    assert stolen.status_code == 404
    with db.transaction() as conn:
        [consent] = service.list_data_consents(conn, an)
    assert consent.withdrawn_at is None


def test_consent_screen_refuses_unknown_apps_and_foreign_return_addresses(
    agency: App, people: dict[str, str], sign_in: SignIn, gov: object
) -> None:
    browser = sign_in(people["citizen_level1"], acr=1)
    for bad in (
        {"client_id": "nope"},
        {"return_to": RETURN_TO + ".evil.example"},
        {"return_to": RETURN_TO + "/../x"},
        {"return_to": "https://evil.example/callback"},
        {"return_to": ""},
    ):
        response = browser.get(consent_url(agency.client_id, **bad))
        assert response.status_code == 400, bad
        assert "Location" not in response.headers
    # Signed out: to the sign-in page, coming back to the same screen.
    anonymous = FlaskClient(browser.application)
    response = anonymous.get(consent_url(agency.client_id))
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=%2Fconsent%2Fdata%3F")


def test_consent_screen_denial_and_invalid_asks_return_to_the_app(
    agency: App, db: Database, people: dict[str, str], sign_in: SignIn
) -> None:
    browser = sign_in(people["citizen_level1"], acr=1)
    page = browser.get(consent_url(agency.client_id)).get_data(as_text=True)
    denied = browser.post(
        "/consent/data",
        data={
            "csrf_token": csrf_of(page),
            "client_id": agency.client_id,
            **ASK,
            "decision": "deny",
        },
    )
    assert denied.status_code == 303
    params = parse_qs(urlsplit(denied.headers["Location"]).query)
    assert params == {"error": ["access_denied"], "state": ["s-123"]}
    for bad in (
        {"fields": "no_such_field"},
        {"purpose": "9.999999"},
        {"dataset": "x"},
        {"fields": ""},
    ):
        response = browser.get(consent_url(agency.client_id, **bad))
        assert response.status_code == 303, bad
        assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == [
            "invalid_request"
        ]
    # Without the CSRF token nothing is recorded.
    forged = browser.post(
        "/consent/data", data={"client_id": agency.client_id, **ASK, "decision": "allow"}
    )
    assert forged.status_code == 400
    with db.transaction() as conn:
        assert fetch_all(conn, "SELECT id FROM data_consents") == []


def test_consent_screen_escapes_markup(
    agency: App, people: dict[str, str], sign_in: SignIn
) -> None:
    browser = sign_in(people["citizen_level1"], acr=1)
    evil = '"><script>alert(1)</script>'
    page = browser.get(consent_url(agency.client_id, state=evil)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&#34;&gt;&lt;script&gt;" in page


def test_a_representative_sees_who_used_his_organizations_data(
    api: FlaskClient,
    agency: App,
    db: Database,
    settings: Settings,
    people: dict[str, str],
    sign_in: SignIn,
) -> None:
    # An agency looks the demo company up by its tax code (no person involved).
    grant(db, settings, agency.client_id, "doanh-nghiep", purposes=["2.001610"])
    looked_up = query(
        api, "doanh-nghiep", {"ma_so_thue": "0108888888"}, token=agency.token(), purpose="2.001610"
    )
    assert looked_up.status_code == 200, looked_up.get_json()
    binh = people["citizen_level2"]  # its legal representative
    token = user_token(db, settings, agency.client_id, binh, "openid my_data")
    [org] = api.get(
        "/api/v1/me/organizations/data-access", headers={"Authorization": f"Bearer {token}"}
    ).get_json()["organizations"]
    assert org["tax_code"] == "0108888888" and org["name"] == "Công ty TNHH Phần mềm Sông Hồng"
    [seen] = org["data_access"]
    assert seen["client_id"] == agency.client_id and seen["purpose"] == "2.001610"
    page = sign_in(binh, acr=2).get("/account/data-access").get_data(as_text=True)
    assert "Ai đã sử dụng dữ liệu của tổ chức «Công ty TNHH Phần mềm Sông Hồng»" in page
    assert "(2.001610)" in page
    # Someone who represents no organization sees no such table.
    an = people["citizen_level1"]
    other = user_token(db, settings, agency.client_id, an, "openid my_data")
    assert (
        api.get(
            "/api/v1/me/organizations/data-access", headers={"Authorization": f"Bearer {other}"}
        ).get_json()["organizations"]
        == []
    )

"""The /account pages: profile, password change, MFA enrolment, active sign-ins."""

from __future__ import annotations

import re
from datetime import date

import pyotp
from flask.testing import FlaskClient

from hub.db import Database, fetch_all
from identity import mfa
from identity.accounts import service, store
from identity.login import ACCOUNT_SECTIONS, AccountSection, register_account_section
from tests.identity import test_login as base
from tests.identity.test_login import AN, Clock, csrf_of, post_login

seeded = base.seeded
clock = base.clock


def test_account_needs_a_sign_in(client: FlaskClient) -> None:
    response = client.get("/account/sessions")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Faccount%2Fsessions"


def test_profile_shows_diacritics_masked_pin_and_escapes_markup(
    client: FlaskClient, db: Database
) -> None:
    with db.transaction() as conn:
        service.create_citizen(
            conn,
            pin="001087012345",
            full_name="<script>alert(1)</script> Nguyễn Văn Ấn",
            birth_date=date(1987, 3, 15),
            sex="male",
            password="mật-khẩu-dài-2025",
            email="a');DROP_TABLE_accounts;--@x.vn",
        )
    post_login(client, "001087012345", "mật-khẩu-dài-2025")
    html = client.get("/account").get_data(as_text=True)
    assert "Nguyễn Văn Ấn" in html and "15/03/1987" in html and "Mức độ 1" in html
    assert "001******345" in html and "001087012345" not in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a&#39;);DROP_TABLE_accounts;--@x.vn" in html
    with db.transaction() as conn:
        assert len(fetch_all(conn, "SELECT id FROM accounts")) == 1


def test_password_change(client: FlaskClient, db: Database, seeded: dict) -> None:
    post_login(client, *AN)
    other = FlaskClient(client.application)
    post_login(other, *AN)
    token = csrf_of(client.get("/account/password").get_data(as_text=True))
    bad = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "wrong-wrong",
            "new_password": "n" * 12,
            "confirm_password": "n" * 12,
        },
    )
    assert bad.status_code == 400 and "Mật khẩu hiện tại không đúng" in bad.get_data(as_text=True)
    differ = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": AN[1],
            "new_password": "n" * 12,
            "confirm_password": "m" * 12,
        },
    )
    assert differ.status_code == 400 and "không khớp" in differ.get_data(as_text=True)
    long = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": AN[1],
            "new_password": "n" * 5000,
            "confirm_password": "n" * 5000,
        },
    )
    assert long.status_code == 400 and "từ 10 đến 256 ký tự" in long.get_data(as_text=True)
    same = client.post(
        "/account/password?lang=en",
        data={
            "csrf_token": token,
            "current_password": AN[1],
            "new_password": AN[1],
            "confirm_password": AN[1],
        },
    )
    assert same.status_code == 400 and "must differ" in same.get_data(as_text=True)
    client.get("/account?lang=vi")  # the language choice sticks: back to Vietnamese
    assert client.post("/account/password", data={"current_password": AN[1]}).status_code == 400
    ok = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": AN[1],
            "new_password": "mật khẩu mới 2025",
            "confirm_password": "mật khẩu mới 2025",
        },
    )
    assert ok.status_code == 303
    assert "Đã đổi mật khẩu" in client.get("/account").get_data(as_text=True)
    assert other.get("/account").status_code == 303  # the other browser was signed out
    with db.transaction() as conn:
        account = service.verify_password(conn, pin=AN[0], password="mật khẩu mới 2025")
    assert account is not None


def test_mfa_enrolment_with_qr_and_recovery_codes(
    client: FlaskClient,
    db: Database,
    seeded: dict,
    clock: Clock,
) -> None:
    post_login(client, *AN)
    page = client.get("/account/mfa")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "<script" not in html
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)  # type: ignore[union-attr]
    # Reloading keeps the same pending secret (an app may already have scanned it).
    assert secret in client.get("/account/mfa").get_data(as_text=True)
    token = csrf_of(html)
    wrong = client.post("/account/mfa", data={"csrf_token": token, "code": "123456"})
    assert wrong.status_code == 400 and "Mã xác thực không đúng" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret).at(clock.now)
    done = client.post("/account/mfa", data={"csrf_token": token, "code": code})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == mfa.RECOVERY_CODES
    with db.transaction() as conn:
        account = store.find_by_pin(conn, AN[0])
        assert account is not None and account.mfa_enabled
        stored = fetch_all(conn, "SELECT code_hash FROM recovery_codes")
        assert codes[0] not in {r["code_hash"] for r in stored}
        # A recovery code works once.
        assert (
            mfa.verify_second_factor(
                conn, account_id=account.id, code=codes[0].upper(), now=clock.now
            )
            == "recovery"
        )
        assert (
            mfa.verify_second_factor(conn, account_id=account.id, code=codes[0], now=clock.now)
            is None
        )
    assert "Đang bật" in client.get("/account").get_data(as_text=True)


def test_sign_out_one_and_all(client: FlaskClient, db: Database, seeded: dict) -> None:
    post_login(client, *AN)
    laptop = FlaskClient(client.application)
    post_login(laptop, *AN)
    phone = FlaskClient(client.application)
    post_login(phone, *AN)
    html = client.get("/account/sessions").get_data(as_text=True)
    ids = re.findall(r'name="session_id" value="([0-9a-f]{64})"', html)
    assert len(ids) == 3 and "Thiết bị này" in html
    token = csrf_of(html)
    with db.transaction() as conn:
        rows = fetch_all(conn, "SELECT id FROM login_sessions ORDER BY created_at")
    _, second, third = (r["id"] for r in rows)  # client, laptop, phone
    response = client.post(
        "/account/sessions/end", data={"csrf_token": token, "session_id": second}
    )
    assert response.status_code == 303
    assert laptop.get("/account").status_code == 303
    assert phone.get("/account").status_code == 200
    # Without the form token nothing is ended.
    assert client.post("/account/sessions/end", data={"session_id": third}).status_code == 400
    everywhere = client.post("/account/sessions/end-all", data={"csrf_token": token})
    assert everywhere.status_code == 200 and "lgsp_sid=;" in everywhere.headers["Set-Cookie"]
    assert phone.get("/account").status_code == 303
    assert client.get("/account").status_code == 303


def test_account_sections_extension_point(
    client: FlaskClient,
    seeded: dict,
    app,  # type: ignore[no-untyped-def]
) -> None:
    from jinja2 import ChoiceLoader, DictLoader

    app.jinja_loader = ChoiceLoader(  # type: ignore[assignment]
        [
            DictLoader({"_test_section.html": "<h2>Ứng dụng: {{ data.apps|join(',') }}</h2>"}),
            app.jinja_loader,
        ]
    )
    section = AccountSection(
        name="test",
        template="_test_section.html",
        load=lambda conn, account: {"apps": ["Cổng DVC", "<b>x</b>"]},
    )
    register_account_section(section)
    try:
        post_login(client, *AN)
        html = client.get("/account").get_data(as_text=True)
        assert "Ứng dụng: Cổng DVC,&lt;b&gt;x&lt;/b&gt;" in html
    finally:
        ACCOUNT_SECTIONS.remove(section)

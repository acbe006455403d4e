"""A representative authorises and ends his organization's staff on /account (level 2)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from hub.db import Database
from identity.accounts import store as account_store
from identity.orgs import service as orgs
from tests.identity.test_oauth_support import AN, BINH, CUONG, csrf_of, seeded, sign_in, submit_otp

__all__ = ["seeded"]

TAX = "0108888888"
PAGE = f"/account/organizations/{TAX}/members"


def _memberships(db: Database, pin: str) -> list[tuple[str, str]]:
    with db.transaction() as conn:
        account = account_store.find_by_pin(conn, pin)
        assert account is not None
        return [(m.tax_code, m.role) for m in orgs.list_memberships(conn, account.id)]


def _representative(app: Flask) -> FlaskClient:
    browser = app.test_client()
    sign_in(browser, *BINH, next_path=PAGE)
    stepped = browser.get(f"/login?acr=2&next={PAGE}")
    assert stepped.status_code == 303 and stepped.headers["Location"] == "/login/otp"
    assert submit_otp(browser).status_code == 303
    return browser


def test_a_representative_authorises_and_ends_staff(
    app: Flask, client: FlaskClient, seeded: Any, db: Database
) -> None:
    # Password only (level 1): sent to step up first.
    sign_in(client, *BINH)
    assert "Quản lý nhân viên được ủy quyền" in client.get("/account").get_data(as_text=True)
    first = client.get(PAGE)
    assert first.status_code == 303 and "acr=2" in first.headers["Location"]

    rep = _representative(app)
    page = rep.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Lê Hoàng Cường" in html and "Trần Thị Bình" in html
    assert CUONG[0] not in html  # numbers are masked
    token = csrf_of(html)
    until = (date.today() + timedelta(days=90)).isoformat()

    assert rep.post(PAGE, data={"pin": AN[0], "expires": until}).status_code == 400  # no CSRF
    for pin, expires, message in [
        ("12345", until, "không hợp lệ"),
        ("001099999999", until, "Không có tài khoản"),
        (AN[0], "2001-01-01", "sau hôm nay"),
        (AN[0], "mai", "sau hôm nay"),
        (BINH[0], until, "là người đại diện"),
    ]:
        bad = rep.post(PAGE, data={"csrf_token": token, "pin": pin, "expires": expires})
        assert bad.status_code == 400 and message in bad.get_data(as_text=True), (pin, expires)
    assert (TAX, "staff") not in _memberships(db, AN[0])

    done = rep.post(PAGE, data={"csrf_token": token, "pin": AN[0], "expires": until})
    assert done.status_code == 303 and done.headers["Location"] == PAGE
    assert (TAX, "staff") in _memberships(db, AN[0])
    assert "Đã ủy quyền cho nhân viên" in rep.get(PAGE).get_data(as_text=True)

    with db.transaction() as conn:
        cuong = account_store.find_by_pin(conn, CUONG[0])
    assert cuong is not None
    ended = rep.post(f"{PAGE}/end", data={"csrf_token": token, "account_id": cuong.id})
    assert ended.status_code == 303
    assert (TAX, "staff") not in _memberships(db, CUONG[0])
    assert "đã chấm dứt" in rep.get(PAGE).get_data(as_text=True)
    junk = rep.post(f"{PAGE}/end", data={"csrf_token": token, "account_id": "<x>"})
    assert junk.status_code == 400


def test_only_a_representative_manages_staff(app: Flask, client: FlaskClient, seeded: Any) -> None:
    sign_in(client, *CUONG)  # staff of the organization, level 1 only
    assert client.get(PAGE).status_code == 303
    rep = _representative(app)
    assert rep.get("/account/organizations/0100109106/members").status_code == 403
    assert rep.get("/account/organizations/%3Cscript%3E/members").status_code == 403

"""Sign-in through HTTP: CSRF, messages, throttling, TOTP, step-up, safe redirects."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.db import Database, fetch_all, fetch_one
from identity import demo_seed
from identity.accounts import service

AN = ("001087012345", "An@demo2025")
BINH = ("079301234567", "Binh@demo2025")


class Clock:
    """A settable clock for the app (no sleeping in tests)."""

    def __init__(self) -> None:
        self.now = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: Flask) -> Clock:
    c = Clock()
    app.extensions["lgsp.clock"] = c
    return c


@pytest.fixture
def seeded(db: Database) -> dict:
    with db.transaction() as conn:
        return demo_seed.seed(conn)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login_page(client: FlaskClient, query: str = "") -> str:
    response = client.get("/login" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post_login(client: FlaskClient, pin: str, password: str, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_of(login_page(client, "?force=1"))
    data = {"csrf_token": token, "pin": pin, "password": password, "next": "/account"}
    data.update(fields)
    return client.post("/login", data=data)


def totp(clock: Clock, secret: str = demo_seed.BINH_TOTP_SECRET) -> str:
    return pyotp.TOTP(secret).at(clock.now)


def post_otp(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    page = client.get("/login/otp")
    assert page.status_code == 200
    return client.post(
        "/login/otp", data={"csrf_token": csrf_of(page.get_data(as_text=True)), "code": code}
    )


def sessions_of(db: Database) -> list[dict]:
    with db.transaction() as conn:
        return fetch_all(
            conn,
            "SELECT account_id, acr, amr, auth_time, ended_at FROM login_sessions"
            " ORDER BY created_at",
        )


def events_of(db: Database) -> list[str]:
    with db.transaction() as conn:
        return [r["kind"] for r in fetch_all(conn, "SELECT kind FROM auth_events ORDER BY id")]


def test_login_page_is_vietnamese_accessible_and_switches_language(client: FlaskClient) -> None:
    html = login_page(client, "?next=/oauth2/authorize%3Fx%3D1")
    assert '<html lang="vi">' in html and "Đăng nhập" in html
    assert 'href="#main"' in html and '<label for="pin">' in html
    assert 'value="/oauth2/authorize?x=1"' in html
    assert "https://" not in html.split("<body>")[0]  # no CDN in the head
    en = client.get("/login?lang=en")
    assert '<html lang="en">' in en.get_data(as_text=True)
    assert "lgsp_lang=en" in en.headers["Set-Cookie"]
    assert '<html lang="en">' in login_page(client)  # remembered by the cookie
    css = client.get("/static/identity/hub.css")
    assert css.status_code == 200 and b":focus" in css.data
    css.close()


def test_sign_in_sets_a_safe_cookie_and_records_the_event(
    client: FlaskClient, db: Database, seeded: dict, clock: Clock
) -> None:
    response = post_login(client, *AN)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lgsp_sid=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # http base URL in tests
    token = cookie.split(";")[0].split("=", 1)[1]
    [row] = sessions_of(db)
    assert row["acr"] == 1 and row["amr"] == ["pwd"] and row["auth_time"] == clock.now
    with db.transaction() as conn:
        assert fetch_one(conn, "SELECT 1 AS x FROM login_sessions WHERE id = %s", (token,)) is None
    assert "login.success" in events_of(db)
    assert client.get("/account").status_code == 200
    # Signed in already: /login continues straight to next.
    again = client.get("/login?next=/account/sessions")
    assert again.status_code == 303 and again.headers["Location"] == "/account/sessions"


def test_csrf_missing_or_wrong_is_refused_with_a_page(client: FlaskClient, seeded: dict) -> None:
    login_page(client)
    for data in (
        {"pin": AN[0], "password": AN[1]},
        {"pin": AN[0], "password": AN[1], "csrf_token": "forged"},
    ):
        response = client.post("/login", data=data)
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
        assert "lgsp_sid" not in response.headers.get("Set-Cookie", "")
    other = FlaskClient(client.application)  # a token from another browser does not work
    token = csrf_of(login_page(other))
    assert (
        client.post(
            "/login", data={"csrf_token": token, "pin": AN[0], "password": AN[1]}
        ).status_code
        == 400
    )


def test_wrong_password_and_unknown_pin_look_the_same(
    client: FlaskClient, db: Database, seeded: dict
) -> None:
    wrong = post_login(client, AN[0], "not-the-password")
    unknown = post_login(client, "001087099999", "not-the-password")
    malformed = post_login(client, "abc", "not-the-password")
    bodies = []
    for response in (wrong, unknown, malformed):
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert "Số định danh hoặc mật khẩu không đúng." in html
        bodies.append(re.sub(r'value="[^"]*"', "", html))
    assert bodies[0] == bodies[1] == bodies[2]
    assert events_of(db).count("login.failure") == 3
    assert sessions_of(db) == []


def test_failures_slow_down_then_the_right_password_works(
    client: FlaskClient, db: Database, seeded: dict, clock: Clock
) -> None:
    for _ in range(5):
        assert post_login(client, AN[0], "guess-guess-guess").status_code == 401
    # The fifth failure imposes 1 s; attempts before then are refused without checking.
    blocked = post_login(client, *AN)
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "1"
    assert "thử lại sau 1 giây" in blocked.get_data(as_text=True)
    clock.advance(1)
    assert post_login(client, AN[0], "guess-guess-guess").status_code == 401
    blocked = post_login(client, *AN)
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "2"
    clock.advance(2)
    assert post_login(client, AN[0], "guess-guess-guess").status_code == 401
    assert post_login(client, *AN).headers["Retry-After"] == "4"
    # Growing delays (for this account from this address) are capped at 15 minutes: never a
    # permanent lockout.
    for _ in range(20):
        clock.advance(900)
        post_login(client, AN[0], "guess-guess-guess")
    assert post_login(client, *AN).headers["Retry-After"] == "900"
    clock.advance(900)
    ok = post_login(client, *AN)
    assert ok.status_code == 303 and ok.headers["Location"] == "/account"
    assert "login.throttled" in events_of(db)
    # Success resets the account's counters (the address's counter is kept, so that one good
    # account cannot launder guesses against others).
    with db.transaction() as conn:
        keys = [r["key"] for r in fetch_all(conn, "SELECT key FROM login_throttle")]
    assert "pin:001087012345" not in keys and "pinip:001087012345@127.0.0.1" not in keys
    assert "ip:127.0.0.1" in keys


def _from(client: FlaskClient, address: str) -> FlaskClient:
    other = FlaskClient(client.application)
    other.environ_base["REMOTE_ADDR"] = address
    return other


def test_a_guesser_elsewhere_cannot_lock_the_owner_out(
    client: FlaskClient, db: Database, seeded: dict, clock: Clock
) -> None:
    # One wrong guess every 15 minutes from another address used to keep the owner at
    # 429 "Retry-After: 900" before his password was even looked at.
    guesser = _from(client, "203.0.113.7")
    for _ in range(30):
        post_login(guesser, AN[0], "guess-guess-guess")
        clock.advance(900)
    post_login(guesser, AN[0], "guess-guess-guess")
    assert post_login(guesser, *AN).headers["Retry-After"] == "900"  # still slow for him
    owner = _from(client, "198.51.100.20")
    ok = post_login(owner, *AN)
    assert ok.status_code == 303 and ok.headers["Location"] == "/account"


def test_guesses_spread_over_many_addresses_are_held_back_per_account(
    client: FlaskClient, db: Database, seeded: dict, clock: Clock
) -> None:
    # 50 failures on the account from anywhere are free; after that an address that has
    # already failed on the account waits for the account's delay as well.
    for i in range(50):
        assert (
            post_login(_from(client, f"10.1.0.{i}"), AN[0], "guess-guess-guess").status_code == 401
        )
    again = _from(client, "10.1.0.1")
    blocked = post_login(again, AN[0], "guess-guess-guess")
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "1"
    assert post_login(again, *AN).status_code == 429
    # An address that has not failed on the account is still checked: the owner gets in.
    ok = post_login(_from(client, "10.2.0.1"), *AN)
    assert ok.status_code == 303


def test_unknown_pins_are_throttled_like_known_ones(client: FlaskClient, seeded: dict) -> None:
    for _ in range(5):
        post_login(client, "001087099999", "guess-guess-guess")
    assert post_login(client, "001087099999", "guess-guess-guess").status_code == 429


def test_level2_sign_in_needs_totp(
    client: FlaskClient, db: Database, seeded: dict, clock: Clock
) -> None:
    response = post_login(client, *BINH, acr="2", next="/oauth2/authorize?client_id=x")
    assert response.status_code == 303 and response.headers["Location"] == "/login/otp"
    assert sessions_of(db) == []  # no session before the second factor
    assert client.get("/account").status_code == 303
    assert post_otp(client, "000000").status_code == 401
    ok = post_otp(client, totp(clock))
    assert ok.status_code == 303 and ok.headers["Location"] == "/oauth2/authorize?client_id=x"
    [row] = sessions_of(db)
    assert row["acr"] == 2 and row["amr"] == ["pwd", "otp"]
    kinds = events_of(db)
    assert {"login.mfa_required", "mfa.failure", "mfa.success", "login.success"} <= set(kinds)


def test_totp_code_cannot_be_replayed(client: FlaskClient, seeded: dict, clock: Clock) -> None:
    code = totp(clock)
    post_login(client, *BINH, acr="2")
    assert post_otp(client, code).status_code == 303
    other = FlaskClient(client.application)
    post_login(other, *BINH, acr="2")
    assert post_otp(other, code).status_code == 401


def test_step_up_from_a_level1_session_asks_only_for_totp(
    client: FlaskClient, db: Database, seeded: dict, clock: Clock
) -> None:
    assert post_login(client, *BINH).headers["Location"] == "/account"
    [before] = sessions_of(db)
    assert before["acr"] == 1
    clock.advance(60)
    step = client.get("/login?next=/app&acr=2")
    assert step.status_code == 303 and step.headers["Location"] == "/login/otp"
    page = client.get("/login/otp").get_data(as_text=True)
    assert "mức độ 2" in page and 'name="password"' not in page
    ok = post_otp(client, totp(clock))
    assert ok.status_code == 303 and ok.headers["Location"] == "/app"
    [after] = sessions_of(db)
    assert after["acr"] == 2 and after["amr"] == ["pwd", "otp"]
    assert after["auth_time"] == clock.now
    assert "login.stepup" in events_of(db)
    # Now strong enough: no further prompt.
    assert client.get("/login?next=/app&acr=2").headers["Location"] == "/app"


def test_level1_account_can_never_reach_level2(
    client: FlaskClient, db: Database, seeded: dict
) -> None:
    response = post_login(client, *AN, acr="2", next="/app")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert (
        "Cần tài khoản mức độ 2" in html and "/app" not in html.split("<main")[1].split("href")[0]
    )
    # Signed in at level 1, but asking again for level 2 still refuses (no silent downgrade).
    again = client.get("/login?next=/app&acr=2")
    assert again.status_code == 403 and "Location" not in again.headers
    assert [r["acr"] for r in sessions_of(db)] == [1]


def test_level2_account_without_totp_is_told_to_enrol(
    client: FlaskClient, db: Database, seeded: dict
) -> None:
    with db.transaction() as conn:
        service.create_citizen(
            conn,
            pin="048095001235",
            full_name="Lê Văn Dũng",
            birth_date=date(1995, 1, 1),
            sex="male",
            password="dung-password-1",
            level=2,
        )
    response = post_login(client, "048095001235", "dung-password-1", acr="2", next="/app")
    assert response.status_code == 403
    assert "/account/mfa" in response.get_data(as_text=True)


def test_force_reauthenticates_even_with_a_session(
    client: FlaskClient, db: Database, seeded: dict, clock: Clock
) -> None:
    post_login(client, *AN)
    clock.advance(600)
    page = client.get("/login?next=/app&force=1&login_hint=001087012345")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="001087012345"' in html and 'name="force" value="1"' in html
    ok = post_login(client, *AN, force="1", next="/app")
    assert ok.headers["Location"] == "/app"
    rows = sessions_of(db)
    assert len(rows) == 2 and rows[0]["ended_at"] is not None and rows[1]["ended_at"] is None
    assert rows[1]["auth_time"] == clock.now


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=1",
        "/\r\nLocation: https://evil.example",
        "evil.example",
        "",
    ],
)
def test_next_open_redirects_are_refused(client: FlaskClient, seeded: dict, target: str) -> None:
    response = post_login(client, *AN, next=target)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location in ("/account", target) and location.startswith("/")
    assert not location.startswith("//") and "evil" not in location.split("?")[0][:2]
    if "evil" in target or target.startswith("javascript"):
        assert location == "/account"


def test_hostile_and_long_input_never_500(client: FlaskClient, seeded: dict) -> None:
    token = csrf_of(login_page(client))
    for pin, password in (
        ("' OR 1=1 --", "' OR 1=1 --"),
        ("<script>alert(1)</script>", "x"),
        ("1" * 100_000, "p" * 100_000),
        ("\x00", "\x00"),
    ):
        response = client.post(
            "/login", data={"csrf_token": token, "pin": pin, "password": password}
        )
        assert response.status_code in (400, 401, 413), response.status_code
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    for query in ("?next=" + "/a" * 5000, "?acr=99&force=yes&login_hint=<b>", "?lang=xx"):
        assert client.get("/login" + query).status_code == 200
    assert client.get("/login/otp").status_code == 303


def test_logout_ends_the_session(client: FlaskClient, db: Database, seeded: dict) -> None:
    post_login(client, *AN)
    token = csrf_of(client.get("/account").get_data(as_text=True))
    assert client.post("/logout", data={}).status_code == 400
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 200
    assert "lgsp_sid=;" in response.headers["Set-Cookie"]
    [row] = sessions_of(db)
    assert row["ended_at"] is not None
    assert client.get("/account").status_code == 303
    assert "logout" in events_of(db)


def test_sign_ins_from_one_address_do_not_queue_behind_each_other(db: Database) -> None:
    # An office behind one NAT: a sign-in in progress (its password still being checked)
    # must not hold up another account's, while a second attempt on the same account waits.
    import psycopg2

    from identity import throttle

    now = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
    with db.transaction() as first:
        assert throttle.wait_seconds(first, ["pin:001087012345", "ip:10.0.0.1"], now=now) == 0
        other = db.connect()
        try:
            with other.cursor() as cur:
                cur.execute("SET lock_timeout = '300ms'")
            assert throttle.wait_seconds(other, ["pin:079301234567", "ip:10.0.0.1"], now=now) == 0
            other.rollback()
            with other.cursor() as cur:
                cur.execute("SET lock_timeout = '300ms'")
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                throttle.wait_seconds(other, ["pin:001087012345", "ip:10.0.0.2"], now=now)
        finally:
            other.close()


def test_code_guessers_who_know_the_password_cannot_lock_the_owner_out(
    client: FlaskClient, seeded: dict, clock: Clock
) -> None:
    # Addresses that know Bình's password fail her second factor: four of them five times
    # each (the account's 20 free failures), then a fifth one once more.
    guessers = [_from(client, f"203.0.113.{i}") for i in range(5)]
    for i, guesser in enumerate(guessers):
        assert post_login(guesser, *BINH, acr="2").headers["Location"] == "/login/otp"
        for _ in range(5 if i < 4 else 1):
            assert post_otp(guesser, "000000").status_code == 401
    # An address that has failed now waits for the account's delay too, even with the
    # right code.
    slowed = post_otp(guessers[4], totp(clock))
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
    # Bình, from an address that has not failed, is not held back by their failures.
    owner = _from(client, "198.51.100.30")
    assert post_login(owner, *BINH, acr="2").headers["Location"] == "/login/otp"
    ok = post_otp(owner, totp(clock))
    assert ok.status_code == 303, ok.get_data(as_text=True)

"""A real headless Chromium through the governance pages.

An administrator signs in to the console at level 2 (password + TOTP) and approves a
request narrower than asked → the developer's app gets only the granted fields; a citizen
consents on the data-consent screen, sees the access in "who used my data", withdraws
→ the app's next call is refused.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyotp
import pytest
import requests

from connectors.demo.server import DemoMinistries
from hub.governance import service
from identity import demo_seed, mfa
from identity.accounts import service as accounts_service
from identity.oauth import clients
from tests.datasets.conftest import AN
from tests.e2e.conftest import LiveHub, governed, serving_hub
from tests.governance.conftest import OPERATOR, user_token

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN_PIN = "001080000101"
STAFF_PASSWORD = "Staff@demo2025"
TOTP_SECRET = pyotp.random_base32()
AN_PASSWORD = "An@demo2025"


@pytest.fixture
def governed_hub(db_url: str, tmp_path: Path, ministries: DemoMinistries) -> Iterator[LiveHub]:
    """The hub over HTTP, enforcing grants over the demo ministries."""
    with serving_hub(db_url, tmp_path / "hub", prepare=governed(ministries.env)) as hub:
        yield hub


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium driven through chromedriver, with a fresh profile."""
    if not os.path.exists(CHROMIUM) or not os.path.exists(CHROMEDRIVER):
        pytest.fail(f"{CHROMIUM} and {CHROMEDRIVER} are needed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="lgsp-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-quic",
        "--disable-sync",
        "--lang=vi",
        f"--user-data-dir={profile}",
        "--window-size=1400,1800",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "driver.log")),
        options=options,
    )
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _setup(hub: LiveHub) -> dict[str, Any]:
    """An admin with TOTP, the demo citizens, an agency app and its developer's request."""
    settings = hub.settings
    with hub.db.transaction() as conn:
        demo_seed.seed(conn)
        admin = accounts_service.create_citizen(
            conn,
            pin=ADMIN_PIN,
            full_name="Phạm Quản Trị",
            birth_date=date(1980, 1, 1),
            sex="male",
            password=STAFF_PASSWORD,
            level=2,
        )
        mfa.enable_totp(conn, account_id=admin.id, secret=TOTP_SECRET)
        service.assign_role(
            conn, actor=OPERATOR, settings=settings, account_id=admin.id, role="admin"
        )
        developer = accounts_service.create_citizen(
            conn,
            pin="001084000105",
            full_name="Lý Lập Trình",
            birth_date=date(1984, 1, 1),
            sex="male",
            password=STAFF_PASSWORD,
        )
        service.assign_role(
            conn, actor=OPERATOR, settings=settings, account_id=developer.id, role="developer"
        )
        client, secret = clients.register_client(
            conn,
            settings=settings,
            name="Một cửa điện tử",
            grant_types=["client_credentials", "authorization_code"],
            scopes=["openid", "dataset:dan-cu"],
            redirect_uris=[f"{hub.url}/healthz"],
            auth_method="client_secret_basic",
        )
        service.add_client_developer(
            conn,
            actor=OPERATOR,
            settings=settings,
            client_id=client.client_id,
            account_id=developer.id,
        )
        dev = service.principal_for_account(conn, account_id=developer.id, level=1)
        asked = service.submit_access_request(
            conn,
            actor=dev,
            settings=settings,
            client_id=client.client_id,
            dataset_id="dan-cu",
            fields=["full_name", "birth_date", "sex"],
            purposes=["1.001234"],
            legal_basis="Luật Cư trú 2020",
            justification="Đăng ký thường trú",
            contact="dev@motcua.example.vn",
        )
    an = next(p for p in demo_seed.CITIZENS if p["key"] == "citizen_level1")
    with hub.db.transaction() as conn:
        from identity.accounts import store as accounts_store

        an_account = accounts_store.find_by_pin(conn, str(an["pin"]))
        assert an_account is not None
    return {
        "client_id": client.client_id,
        "secret": secret,
        "request_id": asked.id,
        "an_id": an_account.id,
    }


def _app_query(hub: LiveHub, token: str, params: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{hub.url}/api/v1/datasets/dan-cu/query",
        json={"params": params},
        headers={"Authorization": f"Bearer {token}", "X-Purpose": "1.001234"},
        timeout=30,
    )


def _client_token(hub: LiveHub, client_id: str, secret: str) -> str:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = requests.post(
        f"{hub.url}/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "dataset:dan-cu"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _wait(driver: Any, css: str, timeout: float = 15) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def _sign_in(driver: Any, pin: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    _wait(driver, "input[type=password]")
    driver.find_element(By.CSS_SELECTOR, "input[name=pin]").send_keys(pin)
    field = driver.find_element(By.CSS_SELECTOR, "input[type=password]")
    field.send_keys(password)
    field.submit()


def test_console_approval_then_citizen_consent_and_withdrawal(
    governed_hub: LiveHub, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    hub = governed_hub
    made = _setup(hub)
    driver = browser
    try:
        # 1. The admin opens the request in the console: the hub's sign-in at level 2.
        driver.get(f"{hub.url}/console/requests/{made['request_id']}")
        assert "/login?" in driver.current_url and "acr=2" in driver.current_url
        _sign_in(driver, ADMIN_PIN, STAFF_PASSWORD)
        code = _wait(driver, "input[name=code]")
        code.send_keys(pyotp.TOTP(TOTP_SECRET).now())
        code.submit()
        _wait(driver, "#approve")
        assert driver.current_url == f"{hub.url}/console/requests/{made['request_id']}"
        assert "Chờ xử lý" in driver.find_element(By.TAG_NAME, "main").text

        # 2. Approve narrower: without the sex field.
        sex = driver.find_element(By.CSS_SELECTOR, "input[name=fields][value=sex]")
        assert sex.is_selected()
        sex.click()
        driver.find_element(By.ID, "approve").click()
        _wait(driver, ".alert-ok")
        assert "Đã chấp thuận" in driver.find_element(By.TAG_NAME, "main").text

        # 3. The developer's app gets only the granted fields.
        token = _client_token(hub, made["client_id"], made["secret"])
        answer = _app_query(hub, token, AN)
        assert answer.status_code == 200, answer.text
        assert set(answer.json()["data"]) == {"full_name", "birth_date"}
        assert "sex" in answer.json()["meta"]["fields_withheld"]

        # 4. A citizen (another browser session) gets the consent screen from the app.
        driver.delete_all_cookies()
        ask = {
            "client_id": made["client_id"],
            "dataset": "dan-cu",
            "purpose": "1.001234",
            "fields": "full_name birth_date",
            "return_to": f"{hub.url}/healthz",
            "state": "xyz",
        }
        driver.get(f"{hub.url}/consent/data?{urlencode(ask)}")
        _sign_in(driver, AN["so_dinh_danh"], AN_PASSWORD)
        _wait(driver, "button[value=allow]")
        text = driver.find_element(By.ID, "consent-text").text
        assert "Một cửa điện tử" in text and "Đăng ký thường trú" in text
        driver.find_element(By.CSS_SELECTOR, "button[value=allow]").click()
        _wait(driver, "body")
        assert driver.current_url.startswith(f"{hub.url}/healthz?")
        assert "consent=granted" in driver.current_url and "state=xyz" in driver.current_url

        # 5. The app calls on his behalf, and he sees it in "who used my data".
        on_behalf = user_token(
            hub.db, hub.settings, made["client_id"], made["an_id"], "openid dataset:dan-cu"
        )
        mine = _app_query(hub, on_behalf, {})
        assert mine.status_code == 200, mine.text
        assert mine.json()["data"]["full_name"] == "Nguyễn Văn An"
        driver.get(f"{hub.url}/account")
        row = _wait(driver, "tr.data-access")
        assert "Một cửa điện tử" in row.text and "Đăng ký thường trú" in row.text
        assert "Họ và tên" in row.text

        # 6. He withdraws; the app's next call is refused.
        driver.find_element(By.CSS_SELECTOR, "form.withdraw button").click()
        _wait(driver, ".consent-withdrawn")
        refused = _app_query(hub, on_behalf, {})
        assert refused.status_code == 403 and refused.json()["code"] == "consent_required"
    except Exception:
        driver.save_screenshot(str(tmp_path / "failure.png"))
        (tmp_path / "failure.html").write_text(driver.page_source)
        raise

"""A real headless Chromium: demo agency app → sign-in → consent → claims; SSO; /account."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests

from hub import demo_rp
from tests.e2e.conftest import LiveHub, serve_demo_app

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
APPROVE_WORDS = ("allow", "approve", "accept", "consent", "yes", "grant", "agree")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """Headless Chromium driven through chromedriver (both from Debian's packages)."""
    if not os.path.exists(CHROMIUM) or not os.path.exists(CHROMEDRIVER):
        pytest.fail(
            f"{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install -y chromium chromium-driver"
        )
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
        "--window-size=1200,1600",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(
            executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")
        ),
        options=options,
    )
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def agency_apps(live_hub: LiveHub) -> Iterator[list[demo_rp.RunningApp]]:
    """Both demo agency apps, served and registered as clients of the live hub."""
    with ExitStack() as stack:
        running = []
        for app in demo_rp.DEMO_APPS:
            served = serve_demo_app(stack, live_hub, app)
            running.append(served)
        yield running


def _sign_in(driver: object, pin: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "input[name=pin]").send_keys(pin)  # type: ignore[attr-defined]
    field = driver.find_element(By.CSS_SELECTOR, "input[type=password]")  # type: ignore[attr-defined]
    field.send_keys(password)
    field.submit()


def _approve(driver: object) -> None:
    from selenium.webdriver.common.by import By

    buttons = driver.find_elements(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, "form[method=post] button, form[method=post] input[type=submit]"
    )
    for button in buttons:
        if (button.get_attribute("value") or "").lower() in APPROVE_WORDS:
            button.click()
            return
    pytest.fail(f"no approving button on the consent page {driver.current_url}")  # type: ignore[attr-defined]


def _wait_for(driver: object, css: str, timeout: float = 15) -> object:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(  # type: ignore[arg-type]
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def test_sign_in_consent_sso_and_account_page(
    live_hub: LiveHub,
    citizen: dict[str, str],
    agency_apps: list[demo_rp.RunningApp],
    browser: object,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    portal, one_stop = agency_apps
    try:
        # 1. The portal: not signed in anywhere yet, so the silent SSO check lands on its page.
        driver.get(portal.url)  # type: ignore[attr-defined]
        _wait_for(driver, "#sign-in").click()  # type: ignore[attr-defined]

        # 2. The hub's sign-in page, then its consent page.
        _wait_for(driver, "input[type=password]")
        assert driver.current_url.startswith(f"{live_hub.url}/login")  # type: ignore[attr-defined]
        _sign_in(driver, citizen["pin"], citizen["password"])
        _wait_for(driver, "form[method=post]")
        assert driver.current_url.startswith(live_hub.url)  # type: ignore[attr-defined]
        _approve(driver)

        # 3. Back at the portal, which shows the claims it received and verified.
        _wait_for(driver, "#signed-in")
        assert driver.current_url.startswith(portal.url)  # type: ignore[attr-defined]
        userinfo = driver.find_element(By.ID, "userinfo").text  # type: ignore[attr-defined]
        assert citizen["name"] in userinfo
        assert citizen["pin"] in userinfo  # the portal asked for the "pid" scope
        id_token = driver.find_element(By.ID, "id-token").text  # type: ignore[attr-defined]
        assert live_hub.url in id_token and citizen["pin"] not in id_token.split("\n")[0]

        # 4. The one-stop shop: already signed in at the hub, so no password, only consent.
        driver.get(one_stop.url)  # type: ignore[attr-defined]
        _wait_for(driver, "form[method=post]")
        if not driver.find_elements(By.ID, "signed-in"):  # type: ignore[attr-defined]
            assert not driver.find_elements(By.CSS_SELECTOR, "input[type=password]")  # type: ignore[attr-defined]
            _approve(driver)
        _wait_for(driver, "#signed-in")
        assert driver.current_url.startswith(one_stop.url)  # type: ignore[attr-defined]
        assert citizen["name"] in driver.find_element(By.ID, "userinfo").text  # type: ignore[attr-defined]
        assert "SSO" in driver.find_element(By.ID, "signed-in").text  # type: ignore[attr-defined]
        assert _claim(driver, "sub")

        # 5. The hub's own /account page for the signed-in citizen.
        driver.get(f"{live_hub.url}/account")  # type: ignore[attr-defined]
        _wait_for(driver, "main, body")
        assert driver.current_url.startswith(f"{live_hub.url}/account")  # type: ignore[attr-defined]
        assert citizen["name"] in driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]

        # 6. RP-initiated logout from the portal ends the hub session too.
        driver.get(portal.url)  # type: ignore[attr-defined]
        _wait_for(driver, "#logout").click()  # type: ignore[attr-defined]
        _wait_for(driver, "#signed-out, button[name=confirm]")
        # The hub ends the session at once for a hint of the current session; otherwise it
        # asks first.
        for confirm in driver.find_elements(By.CSS_SELECTOR, "button[name=confirm]"):  # type: ignore[attr-defined]
            confirm.click()
        _wait_for(driver, "#signed-out")
        assert driver.current_url.startswith(portal.url)  # type: ignore[attr-defined]
        driver.get(f"{live_hub.url}/account")  # type: ignore[attr-defined]
        _wait_for(driver, "input[type=password]")
    except Exception:
        driver.save_screenshot(str(tmp_path / "failure.png"))  # type: ignore[attr-defined]
        (tmp_path / "failure.html").write_text(driver.page_source)  # type: ignore[attr-defined]
        raise


def _claim(driver: object, name: str) -> str:
    from selenium.webdriver.common.by import By

    cell = driver.find_element(By.CSS_SELECTOR, f"#id-token td[data-claim={name}]")  # type: ignore[attr-defined]
    return str(cell.text)


def test_the_api_docs_page_lists_every_operation(browser: object, live_hub: LiveHub) -> None:
    from selenium.webdriver.common.by import By

    driver: Any = browser
    driver.get(f"{live_hub.url}/api/docs")
    _wait_for(driver, "#operations section.tag .operation")
    assert "Cannot load" not in driver.find_element(By.ID, "api-summary").text
    shown = {
        (
            box.find_element(By.CSS_SELECTOR, ".method").text,
            box.find_element(By.CSS_SELECTOR, ".path").text,
        )
        for box in driver.find_elements(By.CSS_SELECTOR, "#operations .operation")
    }
    spec = requests.get(f"{live_hub.url}/api/openapi.json", timeout=10).json()
    documented = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in ("get", "post", "put", "delete")
        if method in item
    }
    assert shown == documented
    # A public GET can be tried from the page.
    health = next(
        box
        for box in driver.find_elements(By.CSS_SELECTOR, "#operations .operation")
        if box.find_element(By.CSS_SELECTOR, ".path").text == "/healthz"
    )
    health.find_element(By.TAG_NAME, "button").click()
    _wait_for(driver, "#operations pre:not(:empty)")
    assert '"ok"' in health.find_element(By.TAG_NAME, "pre").text

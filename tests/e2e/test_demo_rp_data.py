"""A demo agency app reads the citizen's own population record, with his consent, end to end.

Over real HTTP (a ``requests`` session as the browser): sign in at the hub through the app →
"Lấy dữ liệu dân cư của tôi" → the hub's data-consent screen → agree → back to the app, which
queries ``dan-cu`` on his behalf and shows only the granted ∩ consented fields; a refusal by
the API is shown as a message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
import requests

from connectors.demo.server import DemoMinistries
from hub import demo_rp
from hub.governance import demo as governance_demo
from hub.governance import service
from identity import demo_seed
from tests.datasets.conftest import ministries
from tests.e2e.conftest import LiveHub, governed, serve_demo_app, serving_hub
from tests.governance.conftest import OPERATOR

__all__ = ["ministries"]

AN = next(p for p in demo_seed.CITIZENS if p["key"] == "citizen_level1")
GRANTED = ["full_name", "birth_date", "permanent_address"]


@pytest.fixture
def governed_hub(db_url: str, tmp_path: Path, ministries: DemoMinistries) -> Iterator[LiveHub]:
    """The hub over HTTP, enforcing grants over the demo ministries."""
    with serving_hub(db_url, tmp_path / "hub", prepare=governed(ministries.env)) as hub:
        yield hub


@pytest.fixture
def one_stop(governed_hub: LiveHub) -> Iterator[demo_rp.RunningApp]:
    """ "Một cửa điện tử", registered and seeded as ``lgsp demo`` does, then granted less."""
    app = next(a for a in demo_rp.DEMO_APPS if a.key == "one_stop")
    with ExitStack() as stack:
        served = serve_demo_app(stack, governed_hub, app)
        with governed_hub.db.transaction() as conn:
            demo_seed.seed(conn)
            governance_demo.seed(
                conn, settings=governed_hub.settings, clients={app.name: served.client_id}
            )
            # Narrower than the demo grant: "sex" is asked and consented but not granted.
            service.grant_access(
                conn,
                actor=OPERATOR,
                settings=governed_hub.settings,
                client_id=served.client_id,
                dataset_id="dan-cu",
                fields=GRANTED,
                purposes=["1.001234", "1.004194"],
            )
        yield served


def submit(
    browser: requests.Session,
    page: requests.Response,
    button: tuple[str, str] | None = None,
    **values: str,
) -> requests.Response:
    """Submit the page's POST form (the one holding ``button`` when given), like a browser."""
    assert page.status_code == 200, (page.url, page.status_code, page.text[:500])
    doc = lxml.html.fromstring(page.text)
    for form in doc.forms:
        if (form.method or "").upper() != "POST":
            continue
        buttons = form.xpath(".//button[@name] | .//input[@type='submit'][@name]")
        pairs = [(b.get("name"), b.get("value") or "") for b in buttons]
        if button is not None and button not in pairs:
            continue
        fields = dict(form.form_values())
        fields.update(values)
        if button is not None:
            fields[button[0]] = button[1]
        return browser.post(urljoin(page.url, form.action or page.url), data=fields, timeout=15)
    raise AssertionError(f"no matching form on {page.url}: {page.text[:500]}")


def app_form(
    browser: requests.Session, page: requests.Response, action: str, **values: str
) -> requests.Response:
    """Press one of the demo app's buttons (a POST form to ``action``, with its CSRF field)."""
    doc = lxml.html.fromstring(page.text)
    [form] = [f for f in doc.forms if urlsplit(urljoin(page.url, f.action)).path == action][:1]
    fields = {**dict(form.form_values()), **values}
    return browser.post(urljoin(page.url, form.action), data=fields, timeout=15)


def cells(page: requests.Response, element_id: str) -> dict[str, str]:
    """``data-field`` → text of the elements inside the element with that id."""
    doc = lxml.html.fromstring(page.text)
    return {
        el.get("data-field"): el.text_content().strip()
        for el in doc.xpath(f"//*[@id='{element_id}']//*[@data-field]")
    }


def test_citizen_gets_his_own_data_after_consent(
    governed_hub: LiveHub, one_stop: demo_rp.RunningApp
) -> None:
    browser = requests.Session()
    home = browser.get(f"{one_stop.url}/?sso=0", timeout=15)
    assert 'id="sign-in"' in home.text

    # Sign in through the hub: password, then the OAuth consent (which names dataset:dan-cu).
    login = app_form(browser, home, "/login", kind="basic")
    assert urlsplit(login.url).path == "/login", login.url
    oauth_consent = submit(browser, login, pin=AN["pin"], password=AN["password"])
    assert "dan-cu" in oauth_consent.text
    signed_in = submit(browser, oauth_consent, ("decision", "allow"))
    assert signed_in.url.startswith(one_stop.url) and 'id="signed-in"' in signed_in.text
    assert "Lấy dữ liệu dân cư của tôi" in signed_in.text

    # "Get my data" → the hub's data-consent screen for dan-cu, procedure 1.001234.
    screen = app_form(browser, signed_in, "/my-data")
    assert screen.url.startswith(f"{governed_hub.url}/consent/data?"), screen.url
    assert "1.001234" in screen.text and "Một cửa điện tử" in screen.text

    # Agree → back to the app, which shows granted ∩ consented fields, in Vietnamese.
    shown = submit(browser, screen, ("decision", "allow"))
    assert shown.url.startswith(one_stop.url), shown.url
    assert 'id="error"' not in shown.text, shown.text
    data = cells(shown, "population-data")
    assert set(data) == set(GRANTED)
    assert data["full_name"] == AN["full_name"]
    assert data["birth_date"] == "15/03/1987"
    assert "sex" in cells(shown, "fields-withheld")
    assert "Giới tính" in shown.text and "Nơi thường trú" in shown.text

    # Declining on the screen: a message, nothing fetched anew.
    screen = app_form(browser, shown, "/my-data")
    declined = submit(browser, screen, ("decision", "deny"))
    assert "Bạn đã không đồng ý chia sẻ dữ liệu dân cư" in declined.text

    # A refusal by the API (the grant no longer covers this procedure) is a clear message.
    with governed_hub.db.transaction() as conn:
        service.grant_access(
            conn,
            actor=OPERATOR,
            settings=governed_hub.settings,
            client_id=one_stop.client_id,
            dataset_id="dan-cu",
            fields=GRANTED,
            purposes=["1.004194"],
        )
    screen = app_form(browser, declined, "/my-data")
    after = (
        submit(browser, screen, ("decision", "allow")) if "/consent/data" in screen.url else screen
    )
    assert after.status_code == 200 and after.url.startswith(one_stop.url)
    error = lxml.html.fromstring(after.text).xpath("//*[@id='error']")
    assert error and "Không lấy được dữ liệu dân cư" in error[0].text_content(), after.text
    assert "purpose_not_permitted" in error[0].text_content()

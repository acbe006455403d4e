"""``lgsp demo``'s side services: seeded accounts, the two agency apps, demo.json."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import requests

from hub import demo
from hub.config import Settings
from hub.db import Database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_running_serves_and_registers_the_agency_apps(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    port = _free_port()
    settings = settings.replace(bind=f"127.0.0.1:{port}", base_url=f"http://127.0.0.1:{port}")
    with demo.running(settings, db) as info:
        written = json.loads((tmp_path / "demo.json").read_text(encoding="utf-8"))
        assert written["hub"] == settings.issuer
        apps = written["agency_apps"]
        assert [a["client_id"] for a in apps] == ["demo-cong-dich-vu-cong", "demo-mot-cua-dien-tu"]
        assert {a["name"] for a in apps} == {"Cổng dịch vụ công tỉnh", "Một cửa điện tử"}
        for app in apps:
            assert len(app["client_secret"]) >= 43
            assert app["redirect_uris"] == [f"{app['url']}/callback", f"{app['url']}/data-consent"]
            # The app answers (its sign-in page, since the hub itself is not served here).
            page = requests.get(f"{app['url']}/?sso=0", timeout=10)
            assert page.status_code == 200
            assert app["name"] in page.text
        assert written["accounts"]["citizens"]["citizen_level1"]["pin"]
        text = demo.banner(info)
        assert "Cổng dịch vụ công tỉnh" in text and "Một cửa điện tử" in text
        assert written["accounts"]["citizens"]["citizen_level1"]["password"] in text

    # A second run (the demo restarted, maybe on other ports) keeps working.
    with demo.running(settings, db) as again:
        assert [a["client_id"] for a in again["agency_apps"]] == [a["client_id"] for a in apps]


def _hold(ports: list[int]) -> list[socket.socket] | None:
    """Listen on every port, as another program would; None when one is taken already."""
    held: list[socket.socket] = []
    try:
        for port in ports:
            sock = socket.socket()
            held.append(sock)
            sock.bind(("127.0.0.1", port))
            sock.listen()
    except OSError:
        for sock in held:
            sock.close()
        return None
    return held


def test_taken_side_ports_fall_back_to_free_ones(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    # Another program holds the first agency app's port and the first ministry's: the demo
    # serves them elsewhere instead of exiting (werkzeug alone would end the process).
    for _ in range(20):
        port = _free_port()
        held = _hold([port + 1, port + demo.MINISTRY_PORT_OFFSET])
        if held is not None:
            break
    else:
        pytest.fail("no free ports near each other on this machine")
    settings = settings.replace(bind=f"127.0.0.1:{port}", base_url=f"http://127.0.0.1:{port}")
    try:
        with demo.running(settings, db) as info:
            first = info["agency_apps"][0]["url"]
            assert not first.endswith(f":{port + 1}")
            assert requests.get(f"{first}/?sso=0", timeout=10).status_code == 200
    finally:
        for sock in held:
            sock.close()

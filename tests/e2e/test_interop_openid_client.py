"""Interoperability: panva's openid-client (Node, OpenID-Certified) drives the hub unmodified."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import LiveHub, register_client

INTEROP = Path(__file__).resolve().parent.parent / "interop"
CALLBACK = "http://127.0.0.1:9/interop/callback"  # never reached: the script stops at the redirect


def node_tools() -> tuple[str, str]:
    """Paths of node and npm; the test fails (never skips) without them."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail(
            "node and npm are needed for the openid-client interop test: apt-get install nodejs npm"
        )
    return node, npm


def install_openid_client(npm: str) -> None:
    """npm ci from the committed lockfile, once (node_modules kept between runs)."""
    if (INTEROP / "node_modules" / "openid-client" / "package.json").exists():
        return
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=INTEROP,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"


def test_openid_client_drives_the_hub(live_hub: LiveHub, citizen: dict[str, str]) -> None:
    node, npm = node_tools()
    install_openid_client(npm)
    code_client = register_client(
        live_hub,
        name="openid-client interop (code)",
        grant_types=("authorization_code", "refresh_token"),
        scopes=("openid", "profile"),
        redirect_uris=(CALLBACK,),
        auth_method="client_secret_basic",
    )
    cc_client = register_client(
        live_hub,
        name="openid-client interop (client credentials)",
        grant_types=("client_credentials",),
        scopes=("dataset:interop",),
        auth_method="client_secret_basic",
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LGSP_")},
        "ISSUER": live_hub.url,
        "CODE_CLIENT_ID": code_client["client_id"],
        "CODE_CLIENT_SECRET": code_client["client_secret"],
        "REDIRECT_URI": CALLBACK,
        "SCOPE": "openid profile",
        "CC_CLIENT_ID": cc_client["client_id"],
        "CC_CLIENT_SECRET": cc_client["client_secret"],
        "CC_SCOPE": "dataset:interop",
        "USER_PIN": citizen["pin"],
        "USER_PASSWORD": citizen["password"],
    }
    run = subprocess.run(
        [node, str(INTEROP / "run.mjs")],
        cwd=INTEROP,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no summary from run.mjs (exit {run.returncode}):\n{run.stdout}\n{run.stderr}"
    summary = json.loads(lines[-1])
    failed = [s for s in summary["steps"] if not s["ok"]]
    assert run.returncode == 0 and summary["ok"], json.dumps(
        {"error": summary.get("error"), "failed": failed, "stderr": run.stderr[-2000:]},
        ensure_ascii=False,
        indent=2,
    )
    names = {s["step"] for s in summary["steps"]}
    for expected in (
        "discovery",
        "authorization code + PKCE, ID token validated",
        "userinfo",
        "refresh (rotated)",
        "client credentials",
        "introspection (active)",
        "revocation",
        "introspection after revocation (inactive)",
    ):
        assert expected in names

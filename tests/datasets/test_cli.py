"""``lgsp datasets``: load (new versions, unchanged content), list, enable, disable, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import cli_env

ROOT = Path(__file__).resolve().parents[2]
DAN_CU = ROOT / "datasets" / "dan-cu.yaml"


def lgsp(db_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=cli_env(db_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_load_list_enable_disable(db_url: str, tmp_path: Path) -> None:
    first = lgsp(db_url, tmp_path, "datasets", "load", str(DAN_CU))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "dan-cu: stored as version 1"

    again = lgsp(db_url, tmp_path, "datasets", "load", str(DAN_CU), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["created"] is False
    assert json.loads(again.stdout)["version"] == 1

    # A comment changes nothing that matters; a title does.
    commented = tmp_path / "dan-cu.yaml"
    commented.write_text("# reviewed\n" + DAN_CU.read_text(encoding="utf-8"), encoding="utf-8")
    unchanged = lgsp(db_url, tmp_path, "datasets", "load", str(commented))
    assert "unchanged" in unchanged.stdout
    commented.write_text(
        DAN_CU.read_text(encoding="utf-8").replace("en: Citizen lookup", "en: Citizen check"),
        encoding="utf-8",
    )
    second = lgsp(db_url, tmp_path, "datasets", "load", str(commented))
    assert second.stdout.strip() == "dan-cu: stored as version 2"

    assert (
        lgsp(
            db_url, tmp_path, "datasets", "load", str(ROOT / "datasets" / "doanh-nghiep.yaml")
        ).returncode
        == 0
    )
    listed = json.loads(lgsp(db_url, tmp_path, "datasets", "list", "--json").stdout)
    assert [(d["id"], d["version"], d["enabled"]) for d in listed] == [
        ("dan-cu", 2, True),
        ("doanh-nghiep", 1, True),
    ]
    assert listed[0]["title"]["en"].startswith("Citizen check")
    assert listed[0]["loaded_by"].startswith("cli:")

    disabled = lgsp(db_url, tmp_path, "datasets", "disable", "dan-cu")
    assert disabled.returncode == 0 and disabled.stdout.strip() == "dan-cu: disabled"
    table = lgsp(db_url, tmp_path, "datasets", "list").stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "VERSION", "ENABLED"]
    assert table[1].split()[:3] == ["dan-cu", "2", "no"]
    assert lgsp(db_url, tmp_path, "datasets", "enable", "dan-cu").returncode == 0
    assert json.loads(lgsp(db_url, tmp_path, "datasets", "list", "--json").stdout)[0]["enabled"]

    missing = lgsp(db_url, tmp_path, "datasets", "enable", "khong-co")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "lgsp: There is no dataset 'khong-co'."


def test_bad_definitions_give_one_line_naming_file_and_field(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        DAN_CU.read_text(encoding="utf-8").replace("pattern: ^[0-9]{12}$", "pattern: '[0-9'"),
        encoding="utf-8",
    )
    result = lgsp(db_url, tmp_path, "datasets", "load", str(bad))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"lgsp: {bad}: params.so_dinh_danh.pattern: ")

    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\ntitle: [unclosed\n", encoding="utf-8")
    result = lgsp(db_url, tmp_path, "datasets", "load", str(broken))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "invalid YAML: line" in result.stderr

    secret = tmp_path / "secret.yaml"
    secret.write_text(
        (ROOT / "datasets" / "doanh-nghiep.yaml")
        .read_text(encoding="utf-8")
        .replace("key_env: LGSP_DEMO_BUSINESS_API_KEY", "key_env: demo-dkkd-key"),
        encoding="utf-8",
    )
    result = lgsp(db_url, tmp_path, "datasets", "load", str(secret))
    assert result.returncode == 1
    assert "upstream.auth.key_env" in result.stderr and "environment variable" in result.stderr

    absent = lgsp(db_url, tmp_path, "datasets", "load", str(tmp_path / "absent.yaml"))
    assert absent.returncode == 2
    assert len(absent.stderr.strip().splitlines()) == 1
    assert json.loads(lgsp(db_url, tmp_path, "datasets", "list", "--json").stdout) == []


def test_env_file_checks_the_upstream_contract(db_url: str, tmp_path: Path) -> None:
    env_file = tmp_path / "upstream.env"
    env_file.write_text("LGSP_DEMO_POPULATION_WSDL=http://127.0.0.1:9/?wsdl\n", encoding="utf-8")
    result = lgsp(db_url, tmp_path, "datasets", "load", str(DAN_CU), "--env-file", str(env_file))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "could not be loaded" in result.stderr
    assert json.loads(lgsp(db_url, tmp_path, "datasets", "list", "--json").stdout) == []

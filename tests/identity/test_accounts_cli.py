"""``lgsp accounts`` and ``lgsp orgs`` through the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hub.db import Database, fetch_one
from tests.conftest import cli_env

LGSP = str(Path(sys.executable).parent / "lgsp")


def lgsp(db_url: str, tmp_path: Path, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return subprocess.run(
        [LGSP, *args],
        env=cli_env(db_url, tmp_path),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_citizen_org_and_member(db_url: str, tmp_path: Path, db: Database) -> None:
    made = lgsp(
        db_url,
        tmp_path,
        "accounts",
        "create-citizen",
        "--pin",
        "079300123456",
        "--name",
        "Trần Thị Bình",
        "--birth-date",
        "2000-07-21",
        "--sex",
        "female",
        "--password-stdin",
        "--level",
        "2",
        "--email",
        "binh@example.vn",
        "--json",
        stdin="Binh@demo2025\n",
    )
    assert made.returncode == 0, made.stderr
    account = json.loads(made.stdout)
    assert account["full_name"] == "Trần Thị Bình" and account["level"] == 2
    assert "password" not in made.stdout
    staff = lgsp(
        db_url,
        tmp_path,
        "accounts",
        "create-citizen",
        "--pin",
        "048095001234",
        "--name",
        "Lê Hoàng Cường",
        "--birth-date",
        "1995-11-02",
        "--sex",
        "male",
        "--password",
        "Cuong@demo2025",
    )
    assert staff.returncode == 0, staff.stderr
    totp = lgsp(db_url, tmp_path, "accounts", "enable-totp", "--pin", "079300123456", "--json")
    assert totp.returncode == 0 and json.loads(totp.stdout)["otpauth_uri"].startswith("otpauth://")
    org = lgsp(
        db_url,
        tmp_path,
        "orgs",
        "create",
        "--tax-code",
        "0101234565",
        "--name",
        "Công ty TNHH Phần mềm Sông Hồng",
        "--representative",
        "079300123456",
        "--json",
    )
    assert org.returncode == 0, org.stderr
    assert json.loads(org.stdout)["tax_code"] == "0101234565"
    member = lgsp(
        db_url,
        tmp_path,
        "orgs",
        "add-member",
        "--tax-code",
        "0101234565",
        "--pin",
        "048095001234",
        "--role",
        "staff",
        "--expires",
        "2099-12-31",
    )
    # Staff act on a representative's authority: without it the command refuses.
    assert member.returncode == 2, member.stderr
    assert member.stderr.count("\n") == 1 and "--authorised-by" in member.stderr
    member = lgsp(
        db_url,
        tmp_path,
        "orgs",
        "add-member",
        "--tax-code",
        "0101234565",
        "--pin",
        "048095001234",
        "--role",
        "staff",
        "--expires",
        "2099-12-31",
        "--authorised-by",
        "079300123456",
    )
    assert member.returncode == 0, member.stderr
    listed = lgsp(db_url, tmp_path, "accounts", "list")
    assert "Trần Thị Bình" in listed.stdout and "mfa" in listed.stdout
    with db.transaction() as conn:
        row = fetch_one(
            conn,
            "SELECT role, expires_at FROM organization_members m JOIN accounts a"
            " ON a.id = m.account_id WHERE a.pin = '048095001234'",
        )
    assert row is not None and row["role"] == "staff" and row["expires_at"].year == 2099


def test_bad_input_is_one_line_and_nonzero(db_url: str, tmp_path: Path) -> None:
    cases = [
        (
            [
                "accounts",
                "create-citizen",
                "--pin",
                "003087012345",
                "--name",
                "A",
                "--birth-date",
                "1987-01-01",
                "--sex",
                "male",
                "--password",
                "x" * 12,
            ],
            "003, which is not a known province code",
        ),
        (
            [
                "accounts",
                "create-citizen",
                "--pin",
                "001087012345",
                "--name",
                "A",
                "--birth-date",
                "1987-02-30",
                "--sex",
                "male",
                "--password",
                "x" * 12,
            ],
            "--birth-date must be a date",
        ),
        (
            [
                "accounts",
                "create-citizen",
                "--pin",
                "001087012345",
                "--name",
                "A",
                "--birth-date",
                "1987-01-01",
                "--sex",
                "female",
                "--password",
                "x" * 12,
            ],
            "encodes sex male",
        ),
        (
            ["orgs", "create", "--tax-code", "0101234560", "--name", "X"],
            "wrong check digit (the 10th digit should be 5)",
        ),
        (
            ["orgs", "add-member", "--tax-code", "0101234565", "--pin", "001087012345"],
            "a staff member needs --authorised-by PIN",
        ),
        (
            [
                "orgs",
                "add-member",
                "--tax-code",
                "0101234565",
                "--pin",
                "001087012345",
                "--role",
                "representative",
            ],
            "No organization has the tax code 0101234565",
        ),
        (["accounts", "enable-totp", "--pin", "001087012345"], "No account"),
    ]
    for args, reason in cases:
        result = lgsp(db_url, tmp_path, *args)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0], result.stderr
        assert "Traceback" not in result.stderr

"""``lgsp audit verify`` and ``lgsp audit head`` on a tampered log, through the command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hub.audit import service
from hub.audit import store as audit_store
from hub.audit.models import AuditRecord
from hub.config import Settings
from hub.db import Database
from tests.audit.test_chain import append_now, entry, tamper
from tests.conftest import cli_env, run_lgsp

REWIND_TO_3 = (
    "DELETE FROM audit_log WHERE seq >= 4;"
    " UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3)"
)


@pytest.fixture
def env(db: Database, db_url: str, settings: Settings, tmp_path: Path) -> dict[str, str]:
    """Five records chained with the key the command derives from the secret key."""
    key = service.chain_key(settings)
    for i in range(5):
        append_now(db, entry(i), key=key)
    return cli_env(db_url, tmp_path, LGSP_SECRET_KEY=settings.secret_key or "")


def record(db: Database, seq: int) -> AuditRecord:
    with db.transaction() as conn:
        found = audit_store.find_by_seq(conn, seq)
    assert found is not None
    return found


def lgsp(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = run_lgsp(env, *args)
    assert "Traceback" not in result.stderr
    return result


def broken(result: subprocess.CompletedProcess[str], seq: int) -> str:
    """The one line of a failed verification, which names record #seq."""
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith(f"audit chain BROKEN at record #{seq}: "), result.stderr
    assert result.stderr.count("\n") == 1
    return result.stderr


def test_head_prints_seq_and_hash_and_json(env: dict[str, str], db: Database) -> None:
    last = record(db, 5)
    line = lgsp(env, "audit", "head")
    assert line.returncode == 0, line.stderr
    assert line.stdout == f"5:{last.hash}\n"
    as_json = lgsp(env, "audit", "head", "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["seq"] == 5 and data["hash"] == last.hash
    assert data["anchor"] == line.stdout.strip() and data["at"].startswith(str(last.at.year))


def test_an_anchor_catches_the_tail_removed_with_the_head_moved_back(
    env: dict[str, str], db_url: str
) -> None:
    anchor = lgsp(env, "audit", "head").stdout.strip()
    ok = lgsp(env, "audit", "verify", "--anchor", anchor)
    assert ok.returncode == 0, ok.stderr
    assert "5 records verified" in ok.stdout and "1 anchor(s) matched" in ok.stdout
    tamper(db_url, REWIND_TO_3)
    # Without an anchor the shortened log is a consistent chain of three records: nothing
    # inside the database says there were ever more.
    alone = lgsp(env, "audit", "verify")
    assert alone.returncode == 0 and "3 records verified" in alone.stdout
    caught = broken(lgsp(env, "audit", "verify", "--anchor", anchor), 4)
    assert "records #4 to #5 are missing: the log ends at #3" in caught
    assert "chain head moved back" in caught
    older = lgsp(env, "audit", "verify", "--anchor", "2:" + "0" * 64, "--anchor", anchor)
    assert older.returncode == 1  # every anchor is checked, in the order of the log
    assert older.stderr.startswith("audit chain BROKEN at record #2: record #2 has hash")


def test_records_after_the_last_anchor_are_not_covered(
    env: dict[str, str], db: Database, db_url: str
) -> None:
    # The limit: an anchor vouches for the log up to its record, not for what came later.
    third = f"3:{record(db, 3).hash}"
    tamper(db_url, REWIND_TO_3)
    ok = lgsp(env, "audit", "verify", "--anchor", third)
    assert ok.returncode == 0 and "3 records verified" in ok.stdout


def test_an_anchor_with_the_wrong_hash_names_its_record(env: dict[str, str]) -> None:
    fifth = lgsp(env, "audit", "head").stdout.strip()
    wrong = "3:" + fifth.split(":")[1]  # #5's hash given for #3
    assert "record #3 has hash" in broken(lgsp(env, "audit", "verify", "--anchor", wrong), 3)


def test_a_rewritten_log_does_not_match_its_anchor(
    env: dict[str, str], db: Database, db_url: str, settings: Settings
) -> None:
    anchor = lgsp(env, "audit", "head").stdout.strip()
    # Someone with the key rebuilds the log from #4 on: a valid chain, other hashes.
    tamper(db_url, REWIND_TO_3)
    key = service.chain_key(settings)
    for i in range(2):
        append_now(db, entry(100 + i), key=key)
    assert lgsp(env, "audit", "verify").returncode == 0
    caught = broken(lgsp(env, "audit", "verify", "--anchor", anchor), 5)
    assert "the log was rewritten since" in caught


@pytest.mark.parametrize(
    "anchor",
    ["5", "5:abc", "x:" + "a" * 64, "-1:" + "a" * 64, "0:" + "a" * 64, "5:" + "g" * 64],
)
def test_a_malformed_anchor_is_a_usage_error(env: dict[str, str], anchor: str) -> None:
    bad = lgsp(env, "audit", "verify", "--anchor", anchor)
    assert bad.returncode == 2 and bad.stderr.startswith("lgsp: Invalid value for '--anchor'")
    assert bad.stderr.count("\n") == 1


def test_a_removed_record_is_named_by_the_command(env: dict[str, str], db_url: str) -> None:
    tamper(db_url, "DELETE FROM audit_log WHERE seq = 2")
    assert "record #2 is missing (removed)" in broken(lgsp(env, "audit", "verify"), 2)


def test_a_record_inserted_in_the_middle_is_named_by_the_command(
    env: dict[str, str], db_url: str
) -> None:
    # Make room after #2 and slip a forged record in, linked to #2 but hashed without the key.
    tamper(
        db_url,
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 3;"
        " UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000;"
        " INSERT INTO audit_log (seq, content, prev_hash, hash)"
        ' SELECT 3, \'{"at_us":0,"kind":"data.query","outcome":"found"}\', hash, repeat(\'b\', 64)'
        " FROM audit_log WHERE seq = 2;"
        " UPDATE audit_head SET seq = 6",
    )
    assert "record #3 does not match its hash" in broken(lgsp(env, "audit", "verify"), 3)


def test_a_record_appended_with_sql_is_named_by_the_command(
    env: dict[str, str], db_url: str
) -> None:
    tamper(
        db_url,
        "INSERT INTO audit_log (seq, content, prev_hash, hash)"
        ' SELECT 6, \'{"at_us":0,"kind":"data.query","outcome":"found"}\','
        " hash, repeat('a', 64) FROM audit_head;"
        "UPDATE audit_head SET seq = 6, hash = repeat('a', 64)",
    )
    assert "record #6 does not match its hash" in broken(lgsp(env, "audit", "verify"), 6)


def test_head_refuses_a_head_the_log_does_not_hold(env: dict[str, str], db_url: str) -> None:
    tamper(db_url, "DELETE FROM audit_log WHERE seq = 5")
    gone = lgsp(env, "audit", "head")
    assert gone.returncode == 1 and gone.stdout == ""
    assert (
        gone.stderr
        == "audit chain BROKEN: the chain head names record #5, which the log does not hold\n"
    )

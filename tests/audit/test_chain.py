import subprocess
import sys
import threading
from pathlib import Path

import psycopg2
import pytest

from hub.audit import service
from hub.audit import store as audit_store
from hub.audit.models import AuditEntry
from hub.audit.writer import AuditUnavailableError, AuditWriter, SharedHead
from hub.errors import HubError
from tests.conftest import cli_env

KEY = b"k" * 32
ROOT = Path(__file__).resolve().parents[2]


def entry(n: int, **extra) -> AuditEntry:
    return AuditEntry(
        kind="data.query",
        outcome="found",
        request_id=f"req-{n}",
        client_id="mot-cua",
        dataset_id="dan-cu",
        dataset_version=1,
        purpose="1.001234",
        fields=("ho_va_ten", "ngay_sinh"),
        detail={"note": "Nguyễn Văn An", "n": n},
        **extra,
    )


def append_now(db, e, key=KEY):
    with db.transaction() as conn:
        return service.append(conn, e, key=key)


def fill(db, n):
    for i in range(n):
        append_now(db, entry(i))


def tamper(db_url, sql):
    """Change the log as someone with SQL access would: with the triggers switched off."""
    conn = psycopg2.connect(db_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")
            cur.execute(sql)
        conn.commit()
    finally:
        conn.close()


def verify(db):
    with db.transaction() as conn:
        return service.verify(conn, key=KEY)


def test_an_intact_chain_verifies(db):
    fill(db, 5)
    result = verify(db)
    assert result.ok and result.checked == 5


def test_an_empty_chain_verifies(db):
    assert verify(db).ok


def test_updates_and_deletes_are_refused_by_the_database(db):
    fill(db, 2)
    for sql in (
        "UPDATE audit_log SET content = content WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(HubError), db.transaction() as conn, conn.cursor() as cur:
            cur.execute(sql)
    assert verify(db).ok


def test_an_altered_record_is_named(db, db_url):
    fill(db, 5)
    tamper(
        db_url,
        'UPDATE audit_log SET content = replace(content, \'"purpose":"1.001234"\','
        ' \'"purpose":"other"\') WHERE seq = 3',
    )
    result = verify(db)
    assert not result.ok and result.first_bad_seq == 3
    assert "does not match its hash" in result.reason


def test_a_removed_record_is_named(db, db_url):
    fill(db, 5)
    tamper(db_url, "DELETE FROM audit_log WHERE seq = 2")
    result = verify(db)
    assert not result.ok and result.first_bad_seq == 2


def test_records_removed_from_the_end_are_detected(db, db_url):
    fill(db, 5)
    tamper(db_url, "DELETE FROM audit_log WHERE seq >= 4")
    result = verify(db)
    assert not result.ok and result.first_bad_seq == 4


def test_a_forged_record_inserted_with_sql_is_named(db, db_url):
    fill(db, 3)
    tamper(
        db_url,
        "INSERT INTO audit_log (seq, content, prev_hash, hash)"
        ' SELECT 4, \'{"at_us":0,"kind":"data.query","outcome":"found"}\','
        " hash, repeat('a', 64) FROM audit_head;"
        "UPDATE audit_head SET seq = 4, hash = repeat('a', 64)",
    )
    result = verify(db)
    assert not result.ok and result.first_bad_seq == 4


def test_a_record_rehashed_without_the_key_is_caught(db, db_url):
    fill(db, 3)
    # An attacker who knows the algorithm but not the key recomputes an unkeyed hash.
    tamper(
        db_url,
        "UPDATE audit_log SET content = replace(content, 'found', 'refused'),"
        " hash = encode(sha256(convert_to("
        "prev_hash || '|' || replace(content, 'found', 'refused'), 'UTF8')), 'hex') WHERE seq = 2",
    )
    result = verify(db)
    assert not result.ok and result.first_bad_seq == 2


def test_concurrent_writers_keep_one_linear_chain(db):
    errors = []
    audit = AuditWriter(db, KEY)

    def work(w):
        try:
            for i in range(25):
                audit.append(entry(w * 100 + i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = verify(db)
    assert result.ok and result.checked == 200


def test_subject_hash_is_keyed_and_stable(settings):
    a = service.subject_hash(settings, "001087012345")
    assert a == service.subject_hash(settings, "001087012345")
    assert a != service.subject_hash(settings.replace(secret_key="z" * 40), "001087012345")
    assert "001087012345" not in a


def test_lgsp_audit_verify_exit_status(db, db_url, settings, tmp_path):
    key = service.chain_key(settings)
    for i in range(3):
        append_now(db, entry(i), key=key)
    env = cli_env(db_url, tmp_path, LGSP_SECRET_KEY=settings.secret_key)
    ok = subprocess.run(
        [sys.executable, "-m", "hub.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "3 records verified" in ok.stdout
    tamper(
        db_url,
        "UPDATE audit_log SET content = replace(content, 'mot-cua', 'someone-else') WHERE seq = 2",
    )
    bad = subprocess.run(
        [sys.executable, "-m", "hub.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("audit chain BROKEN at record #2")


def test_a_failing_entry_does_not_sink_its_batch_and_is_reported(db):
    writer = AuditWriter(db, KEY)
    good = entry(1)
    bad = AuditEntry(kind="data.query", outcome="found", detail={"x": "nul\x00byte"})
    results = []

    def run(e):
        try:
            results.append(writer.append(e))
        except AuditUnavailableError as exc:
            results.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in (good, bad, good)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(isinstance(r, int) for r in results) == 2
    assert sum(isinstance(r, AuditUnavailableError) for r in results) == 1
    assert verify(db).ok


def test_searchable_columns_are_generated_from_the_hashed_content(db):
    append_now(db, entry(7))
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT kind, outcome, client_id, purpose, at FROM audit_log")
        kind, outcome, client_id, purpose, at = cur.fetchone()
        assert (kind, outcome, client_id, purpose) == ("data.query", "found", "mot-cua", "1.001234")
        assert at.tzinfo is not None
        with pytest.raises(psycopg2.Error):
            cur.execute("UPDATE audit_log SET client_id = 'other'")  # generated: never set
    with db.transaction() as conn:
        (record,) = audit_store.list_records(conn)
    assert record.fields == ("ho_va_ten", "ngay_sinh")
    assert record.detail == {"note": "Nguyễn Văn An", "n": 7}


def test_two_writers_with_stale_heads_still_make_one_chain(db):
    # Two writers that do not share the head (two machines) each know the head they last
    # wrote; interleaved, each append finds the other moved it and reads it under its lock.
    first, second = AuditWriter(db, KEY, shared=None), AuditWriter(db, KEY, shared=None)
    for i in range(6):
        (first if i % 2 else second).append(entry(i))
    result = verify(db)
    assert result.ok and result.checked == 6


def test_a_held_chain_head_makes_appends_fail_in_time_and_none_is_written_late(db, db_url):
    import time

    writer = AuditWriter(db, KEY, timeout=0.5)
    writer.append(entry(0))  # the writer now knows the head: its next append is one statement
    holder = psycopg2.connect(db_url)
    results: list[object] = []
    try:
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM audit_head WHERE id FOR UPDATE")  # a stuck session

        def run(n):
            try:
                results.append(writer.append(entry(n)))
            except AuditUnavailableError as exc:
                results.append(exc)

        started = time.monotonic()
        threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2, 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        took = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert all(isinstance(r, AuditUnavailableError) for r in results) and len(results) == 3
    assert took < 3, took
    assert writer.append(entry(4)) == 2  # nothing refused earlier was written after all
    result = verify(db)
    assert result.ok and result.checked == 2


def _count_locked_appends(monkeypatch) -> list[int]:
    calls: list[int] = []
    locked = service.append_locked

    def counting(*args, **kwargs):
        calls.append(1)
        return locked(*args, **kwargs)

    monkeypatch.setattr(service, "append_locked", counting)
    return calls


def test_writers_sharing_the_head_append_in_one_statement_each(db, tmp_path, monkeypatch):
    # Two workers of one machine: each knows the head the other left, so only the very
    # first append has to read it under the database lock.
    locked = _count_locked_appends(monkeypatch)
    shared = tmp_path / "audit-head"
    first = AuditWriter(db, KEY, shared=SharedHead(shared))
    second = AuditWriter(db, KEY, shared=SharedHead(shared))
    for i in range(8):
        (first if i % 2 else second).append(entry(i))
    assert len(locked) == 1
    result = verify(db)
    assert result.ok and result.checked == 8


def test_processes_sharing_the_head_keep_one_chain(db, db_url, tmp_path):
    script = f"""
import sys
from pathlib import Path
from hub.audit.writer import AuditWriter, SharedHead
from hub.db import Database
from tests.audit.test_chain import KEY, entry
db = Database({db_url!r})
shared = SharedHead(Path({str(tmp_path / "h")!r}))
writer = AuditWriter(db, KEY, shared=shared)
for i in range(40):
    writer.append(entry(int(sys.argv[1]) * 1000 + i))
db.close()
"""
    env = cli_env(db_url, tmp_path, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(n)], env=env, cwd=ROOT)
        for n in range(3)
    ]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    result = verify(db)
    assert result.ok and result.checked == 120


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"\x01" + (41).to_bytes(8, "little") + b"f" * 64, b"\x01" + b"\xff" * 72],
    ids=["empty", "short", "stale", "damaged"],
)
def test_a_wrong_shared_head_costs_time_never_the_chain(db, tmp_path, content):
    fill(db, 2)
    (tmp_path / "h").write_bytes(content)
    writer = AuditWriter(db, KEY, shared=SharedHead(tmp_path / "h"))
    assert writer.append(entry(2)) == 3
    assert writer.append(entry(3)) == 4
    result = verify(db)
    assert result.ok and result.checked == 4


def test_without_a_usable_temporary_directory_the_writer_keeps_the_head(db, tmp_path, caplog):
    (tmp_path / "file").write_text("not a directory")
    writer = AuditWriter(db, KEY, shared=SharedHead(tmp_path / "file" / "h"))
    assert [writer.append(entry(i)) for i in range(3)] == [1, 2, 3]
    assert not isinstance(writer.heads, SharedHead)
    assert "audit head not shared" in caplog.text


def test_a_forked_writer_shares_the_head_with_its_parent(db, tmp_path, monkeypatch):
    # gunicorn forks its workers: a writer made before the fork reopens the shared file.
    import multiprocessing

    locked = _count_locked_appends(monkeypatch)
    writer = AuditWriter(db, KEY, shared=SharedHead(tmp_path / "h"))
    writer.append(entry(0))

    def child() -> None:
        before = len(locked)
        for i in range(3):
            writer.append(entry(10 + i))
        sys.exit(10 + len(locked) - before)  # how many appends took the locked path

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(30)
    assert process.exitcode == 10  # the child knew the parent's head: one statement each
    assert writer.append(entry(1)) == 5
    assert len(locked) == 1  # and the parent knew the child's
    result = verify(db)
    assert result.ok and result.checked == 5


def test_a_shared_head_others_could_write_or_a_planted_link_is_refused(db, tmp_path, caplog):
    open_dir = tmp_path / "open"
    open_dir.mkdir(mode=0o777)
    open_dir.chmod(0o777)  # another user could replace the file
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "h").symlink_to(victim)  # a link planted where the file would be
    for path in (open_dir / "h", private / "h"):
        writer = AuditWriter(db, KEY, shared=SharedHead(path))
        writer.append(entry(0))
        assert not isinstance(writer.heads, SharedHead)
    assert victim.read_bytes() == b"precious"
    assert not (open_dir / "h").exists()
    assert caplog.text.count("audit head not shared") == 2

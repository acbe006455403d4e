"""The background writer of security events: batches, flush, close, a database away."""

from __future__ import annotations

import threading

from hub.db import Database, fetch_all
from identity import events
from tests.conftest import with_database


def _kinds(db: Database) -> list[str]:
    with db.transaction() as conn:
        return [r["kind"] for r in fetch_all(conn, "SELECT kind FROM auth_events ORDER BY id")]


def test_queued_events_are_written_together_and_flush_waits_for_them(db: Database) -> None:
    def burst(n: int) -> None:
        for i in range(50):
            events.record_soon(db, "token.issued", client_id=f"c{n}", detail={"i": i, "n": "Đ"})

    threads = [threading.Thread(target=burst, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert events.flush(db)
    with db.transaction() as conn:
        rows = fetch_all(conn, "SELECT client_id, detail FROM auth_events")
    assert len(rows) == 200
    assert {r["detail"]["n"] for r in rows} == {"Đ"}  # diacritics round-trip
    assert sorted(r["detail"]["i"] for r in rows if r["client_id"] == "c3") == list(range(50))


def test_closing_the_pool_writes_what_is_queued(db_url: str) -> None:
    pool = Database(db_url)
    for _ in range(10):
        events.record_soon(pool, "token.issued", client_id="c")
    pool.close()
    check = Database(db_url)
    try:
        assert _kinds(check) == ["token.issued"] * 10
    finally:
        check.close()


def test_events_wait_while_the_database_is_away(db: Database, db_url: str) -> None:
    away = Database(with_database(db_url, "lgsp_no_such_database"))
    writer = events._writer(away)
    writer.RETRY = 0.05
    events.record_soon(away, "token.issued", client_id="c")
    assert not events.flush(away, timeout=0.3)  # not written, kept for the next attempt
    away.url = db_url  # the database is back
    assert events.flush(away, timeout=5)
    assert _kinds(db) == ["token.issued"]
    away.close()

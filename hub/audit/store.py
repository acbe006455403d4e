"""SQL for the audit log. Appends hold the chain-head row lock only for their own statements."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import psycopg2.extras
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from hub.audit.models import AuditQuery, AuditRecord
from hub.db import Connection, execute_prepared, fetch_all, fetch_one


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def lock_head(conn: Connection, *, lock_timeout: float = 10.0) -> tuple[int, str]:
    """Lock the chain head until the transaction ends; return its seq and hash."""
    with conn.cursor() as cur:
        cur.execute(
            # lock_timeout in the same round trip: a stuck holder makes us fail, not hang.
            "SET LOCAL lock_timeout = %s; SELECT seq, hash FROM audit_head WHERE id FOR UPDATE",
            (_ms(lock_timeout),),
        )
        row = cur.fetchone()
    assert row is not None, "audit_head row missing"
    return row[0], row[1]


def insert_many(conn: Connection, rows: list[tuple[int, str, str, str]]) -> None:
    """Store hashed records (seq, content, prev_hash, hash) and move the head to the last."""
    with conn.cursor() as cur:
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO audit_log (seq, content, prev_hash, hash) VALUES %s",
            rows,
            page_size=1000,
        )
        cur.execute(
            "UPDATE audit_head SET seq = %s, hash = %s WHERE id", (rows[-1][0], rows[-1][3])
        )


def begin_and_lock_head(conn: Connection, *, lock_timeout: float = 10.0) -> tuple[int, str]:
    """On an autocommit connection, in one round trip: open a transaction, lock the head
    (waiting at most ``lock_timeout`` seconds) and read it. End with ``insert_and_commit``."""
    with conn.cursor() as cur:
        cur.execute(
            "BEGIN; SET LOCAL lock_timeout = %s;"
            " SELECT seq, hash FROM audit_head WHERE id FOR UPDATE",
            (_ms(lock_timeout),),
        )
        row = cur.fetchone()
    assert row is not None, "audit_head row missing"
    return row[0], row[1]


def insert_and_commit(conn: Connection, rows: list[tuple[int, str, str, str]]) -> None:
    """After ``begin_and_lock_head``, in one round trip: store the rows, move the head to the
    last, and commit."""
    with conn.cursor() as cur:
        # The head's values are mogrified (an integer and a hex digest: no % in them).
        move = cur.mogrify(
            "UPDATE audit_head SET seq = %s, hash = %s WHERE id", (rows[-1][0], rows[-1][3])
        ).decode()
        psycopg2.extras.execute_values(
            cur,
            "INSERT INTO audit_log (seq, content, prev_hash, hash) VALUES %s; "  # noqa: S608
            + move
            + "; COMMIT",
            rows,
            page_size=len(rows),
        )


def rollback_open(conn: Connection) -> None:
    """End a transaction left open on an autocommit connection (after a failure)."""
    if not conn.closed and conn.info.transaction_status != TRANSACTION_STATUS_IDLE:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")


_APPEND_ONE = (
    "WITH moved AS (UPDATE audit_head SET seq = %(seq)s::bigint, hash = %(hash)s::text"
    " WHERE id AND seq = %(head_seq)s::bigint AND hash = %(head_hash)s::text RETURNING 1)"
    " INSERT INTO audit_log (seq, content, prev_hash, hash)"
    " SELECT %(seq)s::bigint, %(content)s::text, %(prev_hash)s::text, %(hash)s::text"
    " WHERE EXISTS (SELECT 1 FROM moved)"
)


def append_if_head(
    conn: Connection,
    expected: tuple[int, str],
    rows: list[tuple[int, str, str, str]],
    *,
    lock_timeout: float = 10.0,
) -> bool:
    """Store rows and move the head, in one statement, only if the head is still `expected`.

    False (nothing written) when another writer moved the head meanwhile. In autocommit the
    lock-timeout prefix and the statement run as one implicit transaction: one round trip.
    """
    if len(rows) == 1:  # the usual case, when the writer is not busy: planned once
        (seq, content, prev_hash, digest) = rows[0]
        return (
            execute_prepared(
                conn,
                _APPEND_ONE,
                {
                    "seq": seq,
                    "content": content,
                    "prev_hash": prev_hash,
                    "hash": digest,
                    "head_seq": expected[0],
                    "head_hash": expected[1],
                },
                before=f"SET LOCAL lock_timeout = {_ms(lock_timeout)}; ",
            )
            == 1
        )
    with conn.cursor() as cur:
        moved = cur.mogrify(
            "SET LOCAL lock_timeout = %s;"
            " WITH moved AS (UPDATE audit_head SET seq = %s, hash = %s"
            " WHERE id AND seq = %s AND hash = %s RETURNING 1)",
            (_ms(lock_timeout), rows[-1][0], rows[-1][3], expected[0], expected[1]),
        ).decode()
        psycopg2.extras.execute_values(
            cur,
            # `moved` is mogrify's output: its values are already quoted by the driver.
            moved + " INSERT INTO audit_log (seq, content, prev_hash, hash)"  # noqa: S608
            " SELECT v.* FROM (VALUES %s) AS v (seq, content, prev_hash, hash)"
            " WHERE EXISTS (SELECT 1 FROM moved)",
            rows,
            template="(%s::bigint, %s, %s, %s)",
            page_size=len(rows),
        )
        return bool(cur.rowcount == len(rows))


def head(conn: Connection) -> tuple[int, str]:
    """The chain head: last seq and its hash."""
    row = fetch_one(conn, "SELECT seq, hash FROM audit_head WHERE id")
    assert row is not None, "audit_head row missing"
    return row["seq"], row["hash"]


def iter_chain(conn: Connection, batch: int = 20_000) -> Iterator[tuple[int, str, str, str]]:
    """Every record in order as (seq, prev_hash, hash, canonical content), streamed."""
    with conn.cursor(name="audit_verify") as cur:
        cur.itersize = batch
        cur.execute("SELECT seq, prev_hash, hash, content FROM audit_log ORDER BY seq")
        yield from cur


_COLUMNS = "seq, at, content, hash"


def _record(row: dict[str, Any]) -> AuditRecord:
    data = json.loads(row["content"])
    return AuditRecord(
        seq=row["seq"],
        at=row["at"],
        kind=data["kind"],
        outcome=data["outcome"],
        request_id=data.get("request_id"),
        client_id=data.get("client_id"),
        actor=data.get("actor"),
        official_id=data.get("official_id"),
        organization=data.get("organization"),
        subject_hash=data.get("subject_hash"),
        dataset_id=data.get("dataset_id"),
        dataset_version=data.get("dataset_version"),
        purpose=data.get("purpose"),
        fields=tuple(data.get("fields") or ()),
        error_code=data.get("error_code"),
        upstream_ms=data.get("upstream_ms"),
        cache_hit=data.get("cache_hit"),
        detail=data.get("detail") or {},
        hash=row["hash"],
    )


def find_by_seq(conn: Connection, seq: int) -> AuditRecord | None:
    """The record ``seq``, or None."""
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM audit_log WHERE seq = %(seq)s",  # noqa: S608 - fixed columns
        {"seq": seq},
    )
    return _record(row) if row else None


def list_records(
    conn: Connection,
    *,
    where: str = "TRUE",
    params: dict[str, Any] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRecord]:
    """Records matching a condition built from fixed SQL fragments, newest first."""
    rows = fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM audit_log WHERE {where}"  # noqa: S608 - fixed fragments only
        " ORDER BY seq DESC LIMIT %(limit)s OFFSET %(offset)s",
        {**(params or {}), "limit": limit, "offset": offset},
    )
    return [_record(r) for r in rows]


_SEARCH_WHERE = """
    (%(client_id)s::text IS NULL OR client_id = %(client_id)s)
    AND (%(dataset_id)s::text IS NULL OR dataset_id = %(dataset_id)s)
    AND (%(purpose)s::text IS NULL OR purpose = %(purpose)s)
    AND (%(outcome)s::text IS NULL OR outcome = %(outcome)s)
    AND (%(kind)s::text IS NULL OR kind = %(kind)s)
    AND (%(error_code)s::text IS NULL OR error_code = %(error_code)s)
    AND (%(request_id)s::text IS NULL OR request_id = %(request_id)s)
    AND (%(subject_hash)s::text IS NULL OR subject_hash = %(subject_hash)s)
    AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
    AND (%(until)s::timestamptz IS NULL OR at < %(until)s)
"""


def search(
    conn: Connection, query: AuditQuery, *, limit: int = 100, offset: int = 0
) -> list[AuditRecord]:
    """Records matching every filter of `query`, newest first."""
    return list_records(
        conn, where=_SEARCH_WHERE, params=dataclasses.asdict(query), limit=limit, offset=offset
    )


def count(conn: Connection, query: AuditQuery) -> int:
    """How many records match every filter of `query`."""
    row = fetch_one(
        conn,
        f"SELECT count(*) AS n FROM audit_log WHERE {_SEARCH_WHERE}",  # noqa: S608 - fixed text
        dataclasses.asdict(query),
    )
    return int(row["n"]) if row else 0


def iter_search(conn: Connection, query: AuditQuery, batch: int = 5000) -> Iterator[AuditRecord]:
    """Every record matching `query`, oldest first, streamed with a server-side cursor."""
    with conn.cursor(name="audit_export", cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.itersize = batch
        cur.execute(
            f"SELECT {_COLUMNS} FROM audit_log WHERE {_SEARCH_WHERE} ORDER BY seq",  # noqa: S608
            dataclasses.asdict(query),
        )
        for r in cur:
            yield _record(r)

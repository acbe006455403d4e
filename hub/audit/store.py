"""SQL for the audit log. Appends hold the chain-head row lock only for their own statements."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from hub.audit.models import AuditEntry, AuditRecord
from hub.db import Connection, fetch_all, fetch_one, json_param

_LOCK_HEAD_AND_RENDER = """
WITH head AS (SELECT seq, hash FROM audit_head WHERE id FOR UPDATE)
SELECT head.seq + 1 AS seq, head.hash AS prev_hash,
       audit_content(jsonb_populate_record(
           NULL::audit_log,
           %(entry)s::jsonb || jsonb_build_object(
               'seq', head.seq + 1, 'prev_hash', head.hash, 'hash', repeat('0', 64))
       )) AS content
FROM head
"""

_INSERT = """
INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, %(row)s::jsonb);
UPDATE audit_head SET seq = %(seq)s, hash = %(hash)s WHERE id;
"""


def entry_json(entry: AuditEntry, at: datetime) -> dict[str, Any]:
    """The entry as the JSON object the database turns into a row."""
    data = dataclasses.asdict(entry)
    data["fields"] = list(entry.fields)
    data["at"] = at.isoformat()
    return data


def lock_head_and_render(conn: Connection, entry: dict[str, Any]) -> tuple[int, str, str]:
    """Lock the chain head; return the next seq, the previous hash and the canonical content."""
    row = fetch_one(conn, _LOCK_HEAD_AND_RENDER, {"entry": json_param(entry)})
    assert row is not None, "audit_head row missing"
    return row["seq"], row["prev_hash"], row["content"]


def insert(conn: Connection, row: dict[str, Any]) -> None:
    """Store a fully hashed record and move the chain head to it."""
    with conn.cursor() as cur:
        cur.execute(_INSERT, {"row": json_param(row), "seq": row["seq"], "hash": row["hash"]})


def head(conn: Connection) -> tuple[int, str]:
    """The chain head: last seq and its hash."""
    row = fetch_one(conn, "SELECT seq, hash FROM audit_head WHERE id")
    assert row is not None, "audit_head row missing"
    return row["seq"], row["hash"]


def iter_chain(conn: Connection, batch: int = 20_000) -> Iterator[tuple[int, str, str, str]]:
    """Every record in order as (seq, prev_hash, hash, canonical content), streamed."""
    with conn.cursor(name="audit_verify") as cur:
        cur.itersize = batch
        cur.execute("SELECT seq, prev_hash, hash, audit_content(a) FROM audit_log a ORDER BY seq")
        yield from cur


_COLUMNS = (
    "seq, at, kind, outcome, request_id, client_id, actor, official_id, organization,"
    " subject_hash, dataset_id, dataset_version, purpose, fields, error_code, upstream_ms,"
    " cache_hit, detail, hash"
)


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
    return [AuditRecord(**{**r, "fields": tuple(r["fields"])}) for r in rows]

"""Audit rules: keyed hash chain, append, verify, data-subject hashing."""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import hmac
import io
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.audit import store
from hub.audit.models import Anchor, AuditEntry, AuditQuery, AuditRecord, Head, Verification
from hub.config import Settings
from hub.db import Connection, Database
from hub.errors import ValidationError

GENESIS = "0" * 64


def _derive(settings: Settings, purpose: str) -> bytes:
    base = settings.audit_key or settings.secret_key
    if not base:
        raise ValueError("no LGSP_AUDIT_KEY or LGSP_SECRET_KEY to key the audit log")
    return _derived(base, purpose)


@functools.lru_cache(maxsize=16)
def _derived(base: str, purpose: str) -> bytes:
    return hmac.new(base.encode(), purpose.encode(), hashlib.sha256).digest()


def chain_key(settings: Settings) -> bytes:
    """The key of the audit hash chain (LGSP_AUDIT_KEY, else derived from the secret key)."""
    return _derive(settings, "lgsp-audit-chain-v1")


def subject_hash(settings: Settings, pin: str) -> str:
    """A keyed hash of a personal identification number: findable, but not reversible."""
    key = _derive(settings, "lgsp-audit-subject-v1")
    return hmac.digest(key, pin.encode(), "sha256").hex()


def _link(key: bytes, prev_hash: str, content: str) -> str:
    return hmac.digest(key, f"{prev_hash}|{content}".encode(), "sha256").hex()


def canonical_content(entry: AuditEntry, *, seq: int, at: datetime) -> str:
    """The text a record's hash covers: compact JSON, sorted keys, time in microseconds."""
    data = dict(vars(entry))  # shallow: json.dumps walks the rest (asdict deep-copies)
    data["fields"] = list(entry.fields)
    data["seq"] = seq
    data["at_us"] = (at - _EPOCH) // timedelta(microseconds=1)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _chain(
    entries: list[AuditEntry], head: tuple[int, str], key: bytes
) -> list[tuple[int, str, str, str]]:
    seq, prev_hash = head
    at = datetime.now(UTC)
    rows = []
    for entry in entries:
        seq += 1
        content = canonical_content(entry, seq=seq, at=at)
        digest = _link(key, prev_hash, content)
        rows.append((seq, content, prev_hash, digest))
        prev_hash = digest
    return rows


def append_many(
    conn: Connection, entries: Iterable[AuditEntry], *, key: bytes, lock_timeout: float = 10.0
) -> tuple[list[int], tuple[int, str]]:
    """Append records to the chain in ``conn``'s transaction; return their seqs and the head.

    The chain-head row is locked and read first and stays locked until the transaction
    ends: keep it short.
    """
    batch = list(entries)
    if not batch:
        return [], store.head(conn)
    rows = _chain(batch, store.lock_head(conn, lock_timeout=lock_timeout), key)
    store.insert_many(conn, rows)
    return [row[0] for row in rows], (rows[-1][0], rows[-1][3])


Appended = tuple[list[int], tuple[int, str]]  # the records' seqs, and the new head


def _appended(rows: list[tuple[int, str, str, str]]) -> Appended:
    return [row[0] for row in rows], (rows[-1][0], rows[-1][3])


def append_at_head(
    db: Database,
    entries: list[AuditEntry],
    *,
    key: bytes,
    head: tuple[int, str],
    lock_timeout: float = 10.0,
) -> Appended | None:
    """Append and commit in one round trip if ``head`` (what this process last wrote) is
    still the chain's head; None, with nothing written, when another writer moved it."""
    rows = _chain(entries, head, key)
    with db.autocommit() as conn:
        if store.append_if_head(conn, head, rows, lock_timeout=lock_timeout):
            return _appended(rows)
    return None


def append_locked(
    db: Database, entries: list[AuditEntry], *, key: bytes, lock_timeout: float = 10.0
) -> Appended:
    """Append and commit in two round trips: lock and read the head, then write and commit.

    Waiting for the head lock longer than ``lock_timeout`` seconds fails (a HubError).
    """
    with db.autocommit() as conn:
        try:
            rows = _chain(entries, store.begin_and_lock_head(conn, lock_timeout=lock_timeout), key)
            store.insert_and_commit(conn, rows)
        except BaseException:
            store.rollback_open(conn)
            raise
    return _appended(rows)


def append(conn: Connection, entry: AuditEntry, *, key: bytes) -> int:
    """Append one record (see ``append_many``); return its seq."""
    return append_many(conn, [entry], key=key)[0][0]


_ANCHOR = re.compile(r"(\d{1,18}):([0-9a-fA-F]{64})", re.ASCII)


def parse_anchor(text: str) -> Anchor:
    """An anchor written as ``SEQ:HASH`` (what ``lgsp audit head`` prints); ValueError if not."""
    match = _ANCHOR.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not SEQ:HASH (a record number and its 64 hex digits)")
    anchor = Anchor(int(match[1]), match[2].lower())
    if anchor.seq == 0 and anchor.hash != GENESIS:
        raise ValueError(f"{text!r}: record 0 is the empty log, whose hash is 64 zeros")
    return anchor


def read_head(conn: Connection) -> Head:
    """The chain head, to be recorded outside the database as an anchor (see ``verify``).

    ``problem`` says why it must not be recorded: the head names a record the log does not
    hold, or one with another hash.
    """
    seq, digest = store.head(conn)
    anchor = Anchor(seq, digest)
    if seq == 0:
        return (
            Head(anchor)
            if digest == GENESIS
            else Head(anchor, problem="the empty chain's head is not the genesis hash")
        )
    record = store.find_by_seq(conn, seq)
    if record is None:
        return Head(
            anchor, problem=f"the chain head names record #{seq}, which the log does not hold"
        )
    if record.hash != digest:
        return Head(anchor, record.at, f"the chain head's hash is not that of record #{seq}")
    return Head(anchor, record.at)


def verify(
    conn: Connection,
    *,
    key: bytes,
    anchors: Iterable[Anchor] = (),
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Recompute every link and hash; name the first record that does not fit.

    Each anchor (a head recorded elsewhere earlier) must name a record the log still holds,
    with the same hash: the one check that catches records removed from the end together
    with the head moved back, which the database alone cannot tell from a shorter log.
    """
    anchored: dict[int, set[str]] = {}
    for anchor in anchors:
        anchored.setdefault(anchor.seq, set()).add(anchor.hash)
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    base = hmac.new(key, digestmod=hashlib.sha256)  # copied per record: the key set up once
    for seq, prev_hash, stored_hash, content in store.iter_chain(conn):
        if seq != expected_seq:
            return Verification(
                False, checked, expected_seq, f"record #{expected_seq} is missing (removed)"
            )
        if prev_hash != expected_prev:
            return Verification(
                False,
                checked,
                seq,
                f"record #{seq} does not link to record #{seq - 1} "
                "(a record before it was altered, removed or inserted)",
            )
        expected = base.copy()
        expected.update(f"{prev_hash}|{content}".encode())
        if not hmac.compare_digest(expected.hexdigest(), stored_hash):
            return Verification(
                False, checked, seq, f"record #{seq} does not match its hash (altered or forged)"
            )
        if seq in anchored and anchored[seq] != {stored_hash}:
            other = min(anchored[seq] - {stored_hash})
            return Verification(
                False,
                checked,
                seq,
                f"record #{seq} has hash {stored_hash[:16]}…, the anchor {seq}:{other[:16]}… "
                "says otherwise (the log was rewritten since, or the anchor is of another log)",
            )
        expected_prev = stored_hash
        expected_seq += 1
        checked += 1
        if progress is not None and checked % 100_000 == 0:
            progress(checked)
    head_seq, head_hash = store.head(conn)
    if head_seq != checked or head_hash != expected_prev:
        first = checked + 1 if head_seq > checked else head_seq + 1
        return Verification(
            False,
            checked,
            first,
            f"the chain head says {head_seq} records but the log holds {checked} "
            f"(records removed from or inserted at the end)",
        )
    if anchored and max(anchored) > checked:
        last = max(anchored)
        missing = (
            f"record #{last} is"
            if last == checked + 1
            else f"records #{checked + 1} to #{last} are"
        )
        return Verification(
            False,
            checked,
            checked + 1,
            f"{missing} missing: the log ends at #{checked}, the anchor "
            f"{last}:{min(anchored[last])[:16]}… was taken when it held #{last} "
            "(records removed from the end, and the chain head moved back)",
        )
    return Verification(True, checked)


def timed_verify(
    db: Database, settings: Settings, *, anchors: Iterable[Anchor] = ()
) -> tuple[Verification, float]:
    """Verify in a read-only snapshot; return the result and the seconds it took."""
    started = time.perf_counter()
    with _snapshot(db) as conn:
        result = verify(conn, key=chain_key(settings), anchors=anchors)
    return result, time.perf_counter() - started


def current_head(db: Database) -> Head:
    """``read_head`` in a read-only snapshot."""
    with _snapshot(db) as conn:
        return read_head(conn)


@contextlib.contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    with db.transaction() as conn:
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield conn


def search_query(
    settings: Settings,
    *,
    subject: str | None = None,
    **filters: Any,
) -> AuditQuery:
    """An audit query; a data subject (PIN or tax code) is hashed before it is searched."""
    given = {k: v for k, v in filters.items() if v not in (None, "")}
    # Refused here, not by the driver: a CSV export runs its query after the answer began.
    if any("\x00" in v for v in (*given.values(), subject or "") if isinstance(v, str)):
        raise ValidationError("Text must not contain NUL characters.")
    if subject:
        given["subject_hash"] = subject_hash(settings, subject.strip())
    return AuditQuery(**given)


def search(
    conn: Connection, query: AuditQuery, *, limit: int = 100, offset: int = 0
) -> tuple[list[AuditRecord], int]:
    """One page of matching records (newest first) and how many match in all."""
    return store.search(conn, query, limit=limit, offset=offset), store.count(conn, query)


CSV_COLUMNS = (
    "seq",
    "at",
    "kind",
    "outcome",
    "error_code",
    "request_id",
    "client_id",
    "actor",
    "official_id",
    "organization",
    "subject_hash",
    "dataset_id",
    "dataset_version",
    "purpose",
    "fields",
    "upstream_ms",
    "cache_hit",
    "detail",
    "hash",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.astimezone(UTC).isoformat()
    elif isinstance(value, tuple | list):
        text = " ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    # A spreadsheet must not run a cell as a formula (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def csv_lines(records: Iterable[AuditRecord]) -> Iterator[str]:
    """The records as CSV text, one line at a time, header first (RFC 4180, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield buffer.getvalue()
    for record in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(getattr(record, c)) for c in CSV_COLUMNS])
        yield buffer.getvalue()


def export_csv(conn: Connection, query: AuditQuery) -> Iterator[str]:
    """Every matching record as CSV lines, oldest first."""
    return csv_lines(store.iter_search(conn, query))

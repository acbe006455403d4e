"""Audit rules: keyed hash chain, append, verify, data-subject hashing."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hub.audit import store
from hub.audit.models import AuditEntry, Verification
from hub.config import Settings
from hub.db import Connection, Database

GENESIS = "0" * 64


def _derive(settings: Settings, purpose: str) -> bytes:
    base = settings.audit_key or settings.secret_key
    if not base:
        raise ValueError("no LGSP_AUDIT_KEY or LGSP_SECRET_KEY to key the audit log")
    return hmac.new(base.encode(), purpose.encode(), hashlib.sha256).digest()


def chain_key(settings: Settings) -> bytes:
    """The key of the audit hash chain (LGSP_AUDIT_KEY, else derived from the secret key)."""
    return _derive(settings, "lgsp-audit-chain-v1")


def subject_hash(settings: Settings, pin: str) -> str:
    """A keyed hash of a personal identification number: findable, but not reversible."""
    key = _derive(settings, "lgsp-audit-subject-v1")
    return hmac.new(key, pin.encode(), hashlib.sha256).hexdigest()


def _link(key: bytes, prev_hash: str, content: str) -> str:
    return hmac.new(key, f"{prev_hash}|{content}".encode(), hashlib.sha256).hexdigest()


def append(conn: Connection, entry: AuditEntry, *, key: bytes) -> int:
    """Append one record to the chain in ``conn``'s transaction; return its seq.

    The chain-head row stays locked until that transaction ends: keep it short (request
    code uses ``hub.audit.writer.AuditWriter``).
    """
    at = datetime.now(UTC)
    row = store.entry_json(entry, at)
    seq, prev_hash, content = store.lock_head_and_render(conn, row)
    row.update(seq=seq, prev_hash=prev_hash, hash=_link(key, prev_hash, content))
    store.insert(conn, row)
    return seq


def verify(
    conn: Connection, *, key: bytes, progress: Callable[[int], None] | None = None
) -> Verification:
    """Recompute every link and hash; name the first record that does not fit."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
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
        if not hmac.compare_digest(_link(key, prev_hash, content), stored_hash):
            return Verification(
                False, checked, seq, f"record #{seq} does not match its hash (altered or forged)"
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
    return Verification(True, checked)


def timed_verify(db: Database, settings: Settings) -> tuple[Verification, float]:
    """Verify in a read-only snapshot; return the result and the seconds it took."""
    started = time.perf_counter()
    with db.transaction() as conn:
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        result = verify(conn, key=chain_key(settings))
    return result, time.perf_counter() - started

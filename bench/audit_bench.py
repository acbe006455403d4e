"""Audit throughput: 8 concurrent writers appending to one chain, then `verify` speed.

    .venv/bin/python bench/audit_bench.py [--writers 8] [--seconds 10] [--verify-records 200000]

Targets (issue 5): appends >= 2,000 records/s from 8 writers with the chain still valid;
verification >= 100,000 records/s. The baseline beside it, in the same run, is a plain
INSERT of the same row into an unchained copy of the table (what the chain costs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._db import scratch_database  # noqa: E402
from hub.audit import service  # noqa: E402
from hub.audit.models import AuditEntry  # noqa: E402
from hub.audit.writer import AuditWriter  # noqa: E402
from hub.db import Database  # noqa: E402

KEY = b"bench-key-" * 4


def _entry(i: int) -> AuditEntry:
    return AuditEntry(
        kind="data.query",
        outcome="found",
        request_id=f"r{i}",
        client_id="mot-cua-dien-tu",
        actor="sub-123",
        subject_hash="ab" * 32,
        dataset_id="dan-cu",
        dataset_version=1,
        purpose="1.004227",
        fields=("ho_va_ten", "ngay_sinh", "noi_thuong_tru"),
        upstream_ms=12,
        cache_hit=False,
        detail={"n": i},
    )


def _run_writers(db: Database, writers: int, seconds: float, write) -> tuple[int, list[float]]:
    stop = time.perf_counter() + seconds
    counts = [0] * writers
    latencies: list[float] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        mine = []
        i = 0
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            write(w * 10_000_000 + i)
            mine.append(time.perf_counter() - t0)
            i += 1
        counts[w] = i
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--verify-records", type=int, default=200_000)
    args = parser.parse_args()

    with scratch_database() as url:
        db = Database(url, max_connections=args.writers + 2)
        with db.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE plain_log (seq bigserial PRIMARY KEY, content text NOT NULL,"
                " at timestamptz NOT NULL DEFAULT now())"
            )

        def plain(i: int) -> None:
            content = service.canonical_content(_entry(i), seq=i, at=datetime.now(UTC))
            with db.transaction() as conn, conn.cursor() as cur:
                cur.execute("INSERT INTO plain_log (content) VALUES (%s)", (content,))

        writer = AuditWriter(db, KEY)

        def chained(i: int) -> None:
            writer.append(_entry(i))

        rows = []
        for name, fn in (("plain INSERT (baseline)", plain), ("hash-chained append", chained)):
            n, lat = _run_writers(db, args.writers, args.seconds, fn)
            lat.sort()
            rows.append(
                (
                    name,
                    n / args.seconds,
                    statistics.median(lat) * 1000,
                    lat[int(len(lat) * 0.99)] * 1000,
                )
            )

        with db.transaction() as conn:
            ok = service.verify(conn, key=KEY)
        assert ok.ok, ok

        # Fill up to --verify-records quickly (single writer, big transactions), then time verify.
        have = ok.checked
        while have < args.verify_records:
            with db.transaction() as conn:
                for i in range(min(5000, args.verify_records - have)):
                    service.append(conn, _entry(have + i), key=KEY)
            have = min(args.verify_records, have + 5000)
        t0 = time.perf_counter()
        with db.transaction() as conn:
            result = service.verify(conn, key=KEY)
        took = time.perf_counter() - t0
        db.close()

    print(f"\nAudit append, {args.writers} concurrent writers, {args.seconds:.0f} s each")
    print(f"{'':28} {'records/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for name, rate, p50, p99 in rows:
        print(f"{name:28} {rate:10,.0f} {p50:8.2f} {p99:8.2f}")
    print(f"chain after the run: {'valid' if ok.ok else 'BROKEN'} ({ok.checked} records)")
    print(
        f"\nlgsp audit verify: {result.checked:,} records in {took:.2f} s = "
        f"{result.checked / took:,.0f} records/s ({'valid' if result.ok else 'BROKEN'})"
    )


if __name__ == "__main__":
    main()

"""What governance adds to a query: grant, purpose, quota and a committed audit record.

    .venv/bin/python bench/governance_bench.py [--requests 2000] [--warmup 200]

In one run, in-process with the Flask test client, against a fast canned SOAP upstream
(bench/canned_soap.py under gunicorn, the recorded population answer): the same
POST /api/v1/datasets/dan-cu/query through three apps on the same database — governance
off (PermitAllPolicy, no audit), on (grant lookup, purpose, projection, an audit record
committed before the answer), and on with a daily quota (plus the atomic quota upsert).
Requests alternate between the apps so that noise falls on all of them alike.
Target (issue 5): ≤ 1 ms added at p50.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import query_bench  # noqa: E402
from bench._db import scratch_database  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.datasets import service as datasets_service  # noqa: E402
from hub.datasets.service import DatasetRuntime  # noqa: E402
from hub.db import Database  # noqa: E402
from hub.governance import service  # noqa: E402
from hub.governance.models import Principal  # noqa: E402
from hub.governance.policy import GovernancePolicy  # noqa: E402
from identity.oauth import clients  # noqa: E402

AN = {"so_dinh_danh": "001087012345", "ho_va_ten": "Nguyễn Văn An", "ngay_sinh": "1987-03-15"}
SECRET = "bench-secret-key-" + "x" * 40


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    # A fast canned SOAP upstream (the recorded population answer) in its own gunicorn
    # process, as a real upstream would be: the difference measured is the hub's own.
    with Path_tmp() as tmp:
        wsdl_file, answer_file = query_bench.capture(tmp)
        port = query_bench.free_port()
        env = {
            **os.environ,
            "BENCH_WSDL_FILE": str(wsdl_file),
            "BENCH_ANSWER_FILE": str(answer_file),
            "PYTHONPATH": str(ROOT),
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "bench.canned_soap:app",
            ],
            env=env,
            cwd=ROOT,
        )
        try:
            upstream = f"http://127.0.0.1:{port}"
            query_bench.wait_up(upstream + "/?wsdl")
            with scratch_database() as url:
                run(url, tmp, upstream, args.requests, args.warmup)
        finally:
            proc.terminate()
            proc.wait(10)


class Path_tmp:  # noqa: N801 - a tiny context manager
    def __enter__(self) -> Path:
        import tempfile

        self.dir = tempfile.TemporaryDirectory(prefix="lgsp-gov-bench-")
        return Path(self.dir.name)

    def __exit__(self, *exc: object) -> None:
        self.dir.cleanup()


def run(url: str, tmp: Path, upstream: str, n: int, warmup: int) -> None:
    settings = Settings(
        database_url=url,
        data_dir=tmp,
        base_url="http://localhost",
        secret_key=SECRET,
        log_level="WARNING",
        workers=1,
    )
    db = Database(url, max_connections=8)
    with db.transaction() as conn:
        datasets_service.store_definition(
            conn,
            definition=query_bench.dan_cu(upstream + "/?wsdl", upstream + "/"),
            source_yaml="# bench",
            loaded_by="bench",
        )
    apps = {
        "off": create_app(settings, db=db, governance=False),
        "on": create_app(settings, db=db),
        "on+quota": create_app(settings, db=db),
    }
    for name, app in apps.items():
        policy = None if name == "off" else GovernancePolicy(db, settings)
        app.extensions["lgsp.datasets"] = DatasetRuntime(env={}, policy=policy)
    tokens = {}
    for name, app in apps.items():
        with db.transaction() as conn:
            client, secret = clients.register_client(
                conn,
                settings=settings,
                name=f"bench {name}",
                grant_types=["client_credentials"],
                scopes=["dataset:dan-cu"],
            )
            if name != "off":
                service.grant_access(
                    conn,
                    actor=Principal.operator("bench"),
                    settings=settings,
                    client_id=client.client_id,
                    dataset_id="dan-cu",
                    purposes=["1.001234"],
                    daily_quota=10_000_000 if name == "on+quota" else None,
                )
        basic = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
        got = app.test_client().post(
            "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": "dataset:dan-cu"},
            headers={"Authorization": f"Basic {basic}"},
        )
        tokens[name] = got.get_json()["access_token"]
    http = {name: app.test_client() for name, app in apps.items()}
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for i in range(warmup + n):
        for name in apps:
            started = time.perf_counter()
            response = http[name].post(
                "/api/v1/datasets/dan-cu/query",
                json={"params": AN},
                headers={"Authorization": f"Bearer {tokens[name]}", "X-Purpose": "1.001234"},
            )
            took = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.get_data(as_text=True)
            if i >= warmup:
                samples[name].append(took)
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit_log WHERE kind = 'data.query'")
        (audited,) = cur.fetchone() or (0,)
    base = statistics.median(samples["off"])
    print(f"\n{n} requests per app (after {warmup} warm-up), alternating; ms per request\n")
    print(f"{'governance':<12}{'p50':>9}{'p90':>9}{'p99':>9}{'added p50':>12}")
    for name, values in samples.items():
        values.sort()
        p50 = statistics.median(values)
        p90 = values[int(len(values) * 0.9)]
        p99 = values[int(len(values) * 0.99)]
        added = "" if name == "off" else f"{p50 - base:+.3f}"
        print(f"{name:<12}{p50:>9.3f}{p90:>9.3f}{p99:>9.3f}{added:>12}")
    print(f"\naudit records written: {audited:,} (expected {2 * (warmup + n):,})")
    db.close()


if __name__ == "__main__":
    main()

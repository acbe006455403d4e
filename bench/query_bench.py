"""Latency the hub adds to POST /query, beside a bare Flask app, under the same gunicorn settings.

    .venv/bin/python bench/query_bench.py [--requests 10000] [--concurrency 20] [--workers 4]
                                          [--threads N]

In one run: a fast canned SOAP upstream (the population WSDL, one recorded answer) under
gunicorn; `lgsp serve` with the dan-cu dataset pointing at it; a bare Flask app returning
the same JSON under `hub.gunicorn_conf`; the same load (N requests, C client processes)
against the upstream itself, the hub, and the bare app. Prints p50/p99/throughput, the
hub's added latency, RSS per hub worker after the run, and the cost of the zeep call, as
JSON and then as a table, with the CPU time per request of each process (Linux /proc): the
server, the upstream, PostgreSQL (embedded only), and the load clients. The
hub's own time per request as its Server-Timing header reports it (everything but the
ministry call, measured inside the worker, so without waiting for a free worker) is shown
beside, as `server_timing_hub_*`: it is not the target's measure, which is taken at the
client.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.token_bench import tree_cpu  # noqa: E402
from connectors.definition import parse_definition  # noqa: E402
from connectors.demo.population import make_population_app  # noqa: E402
from connectors.demo.server import serve_app  # noqa: E402
from connectors.registry import build_connector  # noqa: E402
from connectors.resilience import BreakerRegistry  # noqa: E402
from hub import embedded, migrations  # noqa: E402
from hub.audit import service as audit_service  # noqa: E402
from hub.config import Settings  # noqa: E402
from hub.datasets import service  # noqa: E402
from hub.db import Database  # noqa: E402

AN = {"so_dinh_danh": "001087012345", "ho_va_ten": "Nguyễn Văn An", "ngay_sinh": "1987-03-15"}
SECRET = "bench-secret-key-" + "x" * 40


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


class Recorder:
    """WSGI middleware keeping the last SOAP answer of the spyne population registry."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last = b""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = b"".join(self.app(environ, start_response))
        if environ["REQUEST_METHOD"] == "POST":
            self.last = body
        return [body]


def dan_cu(wsdl: str, address: str) -> Any:
    data = yaml.safe_load((ROOT / "datasets" / "dan-cu.yaml").read_text(encoding="utf-8"))
    data["upstream"].update(wsdl=wsdl, address=address)
    return parse_definition(data, source="bench dan-cu")


def capture(tmp: Path) -> tuple[Path, Path]:
    """Record the population WSDL and the SOAP answer for AN from the real demo ministry."""
    recorder = Recorder(make_population_app())
    server = serve_app(recorder)
    try:
        wsdl = requests.get(server.base_url + "/?wsdl", timeout=10).content
        connector = build_connector(
            dan_cu(server.base_url + "/?wsdl", server.base_url + "/"),
            env={},
            breakers=BreakerRegistry(),
        )
        assert connector.fetch(AN, _ctx()).found
        connector.close()
    finally:
        server.stop()
    (tmp / "wsdl.xml").write_bytes(wsdl)
    (tmp / "answer.xml").write_bytes(recorder.last)
    return tmp / "wsdl.xml", tmp / "answer.xml"


def _ctx() -> Any:
    from connectors.base import Context

    return Context(request_id="bench-0001", purpose="1.001234", calling_agency="bench")


_HUB_TIMING = re.compile(r"\bhub;dur=([\d.]+)")


def _worker(
    job: tuple[str, dict[str, str], bytes, int],
) -> tuple[list[float], list[float], float]:
    url, headers, body, count = job
    session = requests.Session()
    out, own = [], []
    cpu = time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        response = session.post(url, data=body, headers=headers, timeout=30)
        out.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
        timing = _HUB_TIMING.search(response.headers.get("Server-Timing", ""))
        if timing:
            own.append(float(timing.group(1)))
    return out, own, time.process_time() - cpu


def load(
    url: str,
    headers: dict[str, str],
    body: bytes,
    total: int,
    clients: int,
    *,
    processes: dict[str, int | None] | None = None,
) -> dict[str, float]:
    """Run `total` requests from `clients` processes; with `processes` (name → pid), add the
    CPU milliseconds per request each process tree used, and the clients' own."""
    per = total // clients
    processes = processes or {}
    with Pool(clients) as pool:
        before = {name: tree_cpu(pid) for name, pid in processes.items()}
        started = time.perf_counter()
        results = pool.map(_worker, [(url, headers, body, per)] * clients)
        wall = time.perf_counter() - started
        after = {name: tree_cpu(pid) for name, pid in processes.items()}
    lat = sorted(x for r, _, _ in results for x in r)
    own = sorted(x for _, o, _ in results for x in o)
    out = {
        "requests": len(lat),
        "p50_ms": 1000 * lat[len(lat) // 2],
        "p99_ms": 1000 * lat[int(len(lat) * 0.99)],
        "mean_ms": 1000 * statistics.fmean(lat),
        "rps": len(lat) / wall,
    }
    if own:  # the hub's Server-Timing: its own work, without the ministry call or queueing
        out["server_timing_hub_p50_ms"] = own[len(own) // 2]
        out["server_timing_hub_p99_ms"] = own[int(len(own) * 0.99)]
    for name, b in before.items():
        a = after[name]
        if a is not None and b is not None:
            out[f"cpu_{name}_ms"] = 1000 * (a - b) / len(lat)
    if processes:
        out["cpu_clients_ms"] = 1000 * sum(c for _, _, c in results) / len(lat)
    return out


def worker_rss(master_pid: int) -> list[float]:
    """RSS (MB) of the gunicorn workers whose parent is `master_pid`."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid):
            out.append(int(fields["VmRSS"].split()[0]) / 1024)
    return out


def gunicorn_master(pid: int) -> int:
    """`lgsp serve` runs gunicorn as a child: return the gunicorn master's pid."""
    for _ in range(50):
        children = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit()
            and (p / "status").exists()
            and f"PPid:\t{pid}\n" in (p / "status").read_text()
        ]
        if children:
            return children[0]
        time.sleep(0.1)
    return pid


def postmaster_pid(pg_dir: Path) -> int | None:
    """The embedded PostgreSQL's postmaster (None for a server given by URL)."""
    try:
        return int((pg_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def zeep_cost(wsdl: str, address: str, answer: bytes, rounds: int = 2000) -> dict[str, float]:
    """Per-request time of connector.fetch vs a raw POST of the same envelope to the upstream."""
    connector = build_connector(dan_cu(wsdl, address), env={}, breakers=BreakerRegistry())
    ctx = _ctx()
    for _ in range(100):
        connector.fetch(AN, ctx)
    started = time.perf_counter()
    for _ in range(rounds):
        connector.fetch(AN, ctx)
    fetch = (time.perf_counter() - started) / rounds
    session = requests.Session()
    envelope = b"<x/>"
    started = time.perf_counter()
    for _ in range(rounds):
        session.post(address, data=envelope, headers={"Content-Type": "text/xml"}, timeout=5)
    raw = (time.perf_counter() - started) / rounds
    connector.close()
    return {
        "fetch_ms": fetch * 1000,
        "raw_post_ms": raw * 1000,
        "zeep_and_mapping_ms": (fetch - raw) * 1000,
    }


def summary(report: dict[str, Any]) -> str:
    """The report as a table: the upstream alone, the hub, and the bare app, side by side."""
    results = report["results"]
    heads = ("target", "req/s", "p50 ms", "p99 ms", "cpu server", "cpu upstr.", "cpu PG")
    lines = ["  ".join(f"{h:>10}" if i else f"{h:<10}" for i, h in enumerate(heads))]
    for name, server_key in (("upstream", "upstream"), ("hub", "hub"), ("bare", "bare")):
        r = results[name]

        def cell(key: str, r: dict[str, float] = r) -> str:
            return f"{r[key]:.2f}" if key in r else "-"

        row = (
            name,
            f"{r['rps']:.0f}",
            cell("p50_ms"),
            cell("p99_ms"),
            cell(f"cpu_{server_key}_ms"),
            cell("cpu_upstream_ms") if name == "hub" else "-",
            cell("cpu_pg_ms"),
        )
        lines.append("  ".join(f"{c:>10}" if i else f"{c:<10}" for i, c in enumerate(row)))
    lines += [
        "(cpu: milliseconds of CPU per request, all processes of each)",
        f"hub minus upstream: p50 {report['hub_minus_upstream_p50_ms']:+.2f} ms, "
        f"p99 {report['hub_minus_upstream_p99_ms']:+.2f} ms (target ≤ 2 / ≤ 10 ms)",
        f"hub throughput / bare app: {report['throughput_vs_bare']:.0%} (target ≥ 50 %)",
        "hub worker RSS after the run: "
        + ", ".join(f"{mb:.0f}" for mb in report["hub_worker_rss_mb"])
        + " MB (target ≤ 150 MB)",
        f"audit chain after the run: {'valid' if report['audit_chain']['valid'] else 'BROKEN'}"
        f" ({report['audit_chain']['records']:,} records)",
        f"zeep call: {report['zeep_call']['fetch_ms']:.2f} ms per lookup, of which zeep and "
        f"mapping {report['zeep_call']['zeep_and_mapping_ms']:.2f} ms",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--threads", type=int, default=None, help="LGSP_THREADS for the hub and the bare app"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lgsp-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    pg_dir = tmp / "pg"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    if args.threads is not None:
        base_env["LGSP_THREADS"] = str(args.threads)
    try:
        db_url = os.environ.get("LGSP_DATABASE_URL") or embedded.ensure_server(pg_dir)
        wsdl_file, answer_file = capture(tmp)

        up_port, hub_port, bare_port = free_port(), free_port(), free_port()
        upstream = f"http://127.0.0.1:{up_port}"
        env = {
            **base_env,
            "BENCH_WSDL_FILE": str(wsdl_file),
            "BENCH_ANSWER_FILE": str(answer_file),
            "PYTHONPATH": str(ROOT),
        }
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-w",
                    "8",
                    "-b",
                    f"127.0.0.1:{up_port}",
                    "--log-level",
                    "warning",
                    "bench.canned_soap:app",
                ],
                env=env,
                cwd=ROOT,
            )
        )
        wait_up(upstream + "/?wsdl")

        settings = Settings(
            database_url=db_url,
            base_url=f"http://127.0.0.1:{hub_port}",
            secret_key=SECRET,
            data_dir=tmp,
        )
        db = Database(db_url)
        migrations.upgrade(db)
        from hub.governance.models import Principal
        from hub.governance.service import grant_access
        from identity import keys
        from identity.oauth import clients

        with db.transaction() as conn:
            service.store_definition(
                conn,
                definition=dan_cu(upstream + "/?wsdl", upstream + "/"),
                source_yaml="# bench",
                loaded_by="bench",
            )
            keys.ensure_keys(conn, settings=settings)
            client, secret = clients.register_client(
                conn,
                settings=settings,
                name="bench",
                grant_types=["client_credentials"],
                scopes=["dataset:dan-cu"],
            )
            # The hub runs as in production: governed (grant checked, every call audited).
            grant_access(
                conn,
                actor=Principal.operator("bench"),
                settings=settings,
                client_id=client.client_id,
                dataset_id="dan-cu",
                purposes=["1.001234"],
            )
        db.close()

        gunicorn_env = {
            **base_env,
            "LGSP_DATABASE_URL": db_url,
            "LGSP_SECRET_KEY": SECRET,
            "LGSP_DATA_DIR": str(tmp),
            "LGSP_BASE_URL": settings.base_url,
            "LGSP_LOG_LEVEL": "WARNING",
        }
        log = open(tmp / "hub.log", "wb")  # noqa: SIM115
        hub = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{hub_port}",
                "--workers",
                str(args.workers),
            ],
            env=gunicorn_env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        procs.append(hub)
        hub_url = settings.base_url
        wait_up(hub_url + "/healthz")
        token = requests.post(
            hub_url + "/oauth2/token",
            auth=(client.client_id, secret or ""),
            data={"grant_type": "client_credentials", "scope": "dataset:dan-cu"},
            timeout=10,
        ).json()["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Purpose": "1.001234",
            "Content-Type": "application/json",
        }
        body = json.dumps({"params": AN}).encode()
        query_url = hub_url + "/api/v1/datasets/dan-cu/query"
        sample = requests.post(query_url, data=body, headers=headers, timeout=10)
        assert sample.status_code == 200, sample.text
        (tmp / "answer.json").write_bytes(sample.content)

        bare_env = {
            **gunicorn_env,
            "LGSP_BIND": f"127.0.0.1:{bare_port}",
            "LGSP_WORKERS": str(args.workers),
            "PYTHONPATH": str(ROOT),
            "BENCH_BODY_FILE": str(tmp / "answer.json"),
        }
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    "python:hub.gunicorn_conf",
                    "bench.bare_app:app",
                ],
                env=bare_env,
                cwd=ROOT,
                stdout=log,
                stderr=log,
            )
        )
        bare_url = f"http://127.0.0.1:{bare_port}/api/v1/datasets/dan-cu/query"
        wait_up(f"http://127.0.0.1:{bare_port}/")

        warm = 50 * args.workers
        load(query_url, headers, body, warm, args.concurrency)
        load(bare_url, headers, body, warm, args.concurrency)
        envelope = b"<soap/>"
        pg_pid = postmaster_pid(pg_dir)
        results = {
            "upstream": load(
                upstream + "/",
                {"Content-Type": "text/xml"},
                envelope,
                args.requests,
                args.concurrency,
                processes={"upstream": procs[0].pid},
            ),
            "hub": load(
                query_url,
                headers,
                body,
                args.requests,
                args.concurrency,
                processes={"hub": hub.pid, "upstream": procs[0].pid, "pg": pg_pid},
            ),
            "bare": load(
                bare_url,
                headers,
                body,
                args.requests,
                args.concurrency,
                processes={"bare": procs[-1].pid},
            ),
        }
        rss = worker_rss(gunicorn_master(hub.pid))
        # Every query was audited by 4 workers appending to one chain: it must still verify.
        check = Database(db_url)
        chain, _ = audit_service.timed_verify(check, settings)
        check.close()
        zeep = zeep_cost(upstream + "/?wsdl", upstream + "/", answer_file.read_bytes())
        hub_r, bare_r, up_r = results["hub"], results["bare"], results["upstream"]
        report = {
            "settings": vars(args),
            "results": results,
            "hub_added_p50_ms": hub_r["p50_ms"] - up_r["p50_ms"] - bare_r["p50_ms"],
            "hub_added_p99_ms": hub_r["p99_ms"] - up_r["p99_ms"] - bare_r["p99_ms"],
            "hub_minus_upstream_p50_ms": hub_r["p50_ms"] - up_r["p50_ms"],
            "hub_minus_upstream_p99_ms": hub_r["p99_ms"] - up_r["p99_ms"],
            "throughput_vs_bare": hub_r["rps"] / bare_r["rps"],
            "hub_worker_rss_mb": rss,
            "zeep_call": zeep,
            "audit_chain": {"valid": chain.ok, "records": chain.checked},
        }
        print(json.dumps(report, indent=2))
        print(summary(report))
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not os.environ.get("LGSP_DATABASE_URL"):
            embedded.stop_server(pg_dir)


if __name__ == "__main__":
    main()

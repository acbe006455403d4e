"""Benchmarks of the hub's OpenID provider under ``lgsp serve``, on a fresh database.

1. Token endpoint (client_credentials, client_secret_basic, JWT access tokens), side by side
   in the same run with the reference node-oidc-provider (../shared/peers/oidc-provider),
   each server driven by the same two clients in turn: the reference's own load generator
   (bench-token.mjs, fetch), and bench/http-load.mjs (node:http), which spends about a tenth
   of the client CPU per request. On two cores the fetch client takes close to half the
   machine, so it measures the servers on what the client leaves them.
2. Full sign-in round trips (authorize → password → code → token) per second.
3. Introspection requests per second, over --introspect-tokens distinct tokens in turn,
   measured with bench/http-load.mjs (node:http on keep-alive sockets), which costs about a
   tenth of the CPU per request that fetch() does: the generator shares the two cores.

Besides requests per second, each row gives the CPU time per request of the server (all its
processes), of PostgreSQL and of the load generator (Linux /proc): on a small, shared
machine these say more than the rates, which move with whatever else runs.

    .venv/bin/python bench/token_bench.py [--n 3000] [--c 20] [--rounds 2] [--no-peer]

Not part of the test suite. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEER_SOURCE = Path(
    os.environ.get("LGSP_PEER_DIR", ROOT.parent / "shared" / "peers" / "oidc-provider")
)
if not PEER_SOURCE.exists():
    PEER_SOURCE = Path("/work/shared/peers/oidc-provider")
CALLBACK = "http://127.0.0.1:9/bench/callback"
PASSWORD = "Bench-mat-khau-2025"
SCOPE = "dataset:bench"  # the reference's client asks for "api:read": one scope each


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, *, timeout: float = 60, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the server behind {url} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f}s")


@contextmanager
def process(argv: list[str], *, env: dict[str, str], cwd: Path | None = None, name: str):
    """A child process in its own process group, stopped (SIGTERM, then SIGKILL) at the end.

    Not in its own session: with the kernel's autogroup scheduling a session is a scheduling
    group, and the server would then share the cores with the load generator group by group
    instead of process by process (measured: a fifth fewer requests per second).
    """
    logfile = open(Path(env.get("BENCH_TMP", tempfile.gettempdir())) / f"{name}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=logfile, stderr=subprocess.STDOUT, process_group=0
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        logfile.close()


def node(script: Path, env: dict[str, str], *, cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(script)], env=env, cwd=cwd, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        raise SystemExit(f"{script.name} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def tree_cpu(root: int | None) -> float | None:
    """CPU seconds (user + system) used so far by a process and its living descendants."""
    if root is None or not Path("/proc").is_dir():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    own: dict[int, float] = {}
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        own[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += own.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def measured(
    script: Path,
    env: dict[str, str],
    *,
    requests_: int,
    server: int | None,
    postgres: int | None = None,
) -> dict[str, Any]:
    """Run a load script; add the CPU milliseconds per request of server, PostgreSQL, load."""
    before = [tree_cpu(server), tree_cpu(postgres)]
    gen_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    row = node(script, env, cwd=BENCH)
    gen_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = [tree_cpu(server), tree_cpu(postgres)]
    for key, b, a in zip(("cpu_server_ms", "cpu_pg_ms"), before, after, strict=True):
        if a is not None and b is not None:
            row[key] = round(1000 * (a - b) / requests_, 3)
    gen = (gen_after.ru_utime - gen_before.ru_utime) + (gen_after.ru_stime - gen_before.ru_stime)
    row["cpu_gen_ms"] = round(1000 * gen / requests_, 3)
    return row


def postmaster_pid(data_dir: Path) -> int | None:
    """The embedded PostgreSQL's postmaster, from its pid file."""
    try:
        return int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def lgsp(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"lgsp {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def pin_for(i: int) -> str:
    # Hà Nội (001), born 1990, male (century/sex digit 0), serial i.
    return f"001090{100000 + i:06d}"


def seed(url: str, users: int, env: dict[str, str]) -> dict[str, Any]:
    """Clients and citizens for the benchmarks, written straight into the fresh database."""
    from hub.config import Settings
    from hub.db import Database
    from identity.accounts import service as accounts
    from identity.oauth.clients import register_client

    settings = Settings.from_env(env)
    db = Database(url)
    try:
        with db.transaction() as conn:
            cc = register_client(
                conn,
                settings=settings,
                name="bench client_credentials",
                grant_types=("client_credentials",),
                scopes=(SCOPE,),
            )
            code = register_client(
                conn,
                settings=settings,
                name="bench sign-in",
                grant_types=("authorization_code",),
                scopes=("openid", "profile"),
                redirect_uris=(CALLBACK,),
            )
            for i in range(users):
                accounts.create_citizen(
                    conn,
                    pin=pin_for(i),
                    full_name=f"Người Thử {i}",
                    birth_date=date(1990, 1, 1),
                    sex="male",
                    password=PASSWORD,
                )
    finally:
        db.close()
    return {
        "cc": {"client_id": cc[0].client_id, "client_secret": cc[1]},
        "code": {"client_id": code[0].client_id, "client_secret": code[1]},
    }


def start_peer(stack: ExitStack, tmp: Path, env: dict[str, str]) -> tuple[str, int]:
    """The reference provider (node-oidc-provider, JWT access tokens) on a free port."""
    peer = tmp / "peer"
    shutil.copytree(PEER_SOURCE, peer)
    for f in peer.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    peer.chmod(0o755)
    log("npm install of the reference provider …")
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=peer,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"npm install failed for the reference provider:\n{done.stderr}")
    port = free_port()
    proc = stack.enter_context(
        process(
            ["node", "oidc-provider-cc.mjs"],
            env={**env, "ACCESS_TOKEN_FORMAT": "jwt", "PORT": str(port), "HOST": "127.0.0.1"},
            cwd=peer,
            name="peer",
        )
    )
    wait_http(f"http://127.0.0.1:{port}/.well-known/openid-configuration", proc=proc)
    return f"http://127.0.0.1:{port}", proc.pid


def table(title: str, rows: list[dict[str, Any]]) -> str:
    cols: tuple[str, ...] = ("label", "requests", "concurrency", "errors", "rps", "p50_ms")
    cols += ("p95_ms", "p99_ms", "cpu_server_ms", "cpu_pg_ms", "cpu_gen_ms")
    heads: tuple[str, ...] = ("server / test", "requests", "C", "errors", "req/s", "p50 ms")
    heads += ("p95 ms", "p99 ms", "cpu srv", "cpu pg", "cpu gen")
    cells = [[str(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(heads)]

    def line(vals: list[str] | tuple[str, ...]) -> str:
        pairs = enumerate(zip(vals, widths, strict=True))
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in pairs)

    out = [title, line(heads), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=3000, help="token requests per measurement")
    parser.add_argument("--c", type=int, default=20, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=2, help="alternating hub/peer rounds")
    parser.add_argument("--workers", type=int, help="LGSP_WORKERS (default: the hub's default)")
    parser.add_argument("--threads", type=int, help="LGSP_THREADS (default: the hub's default)")
    parser.add_argument("--signin-n", type=int, default=600)
    parser.add_argument("--signin-c", type=int, default=8)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--introspect-n", type=int, default=5000)
    parser.add_argument(
        "--introspect-tokens", type=int, default=200, help="distinct tokens, introspected in turn"
    )
    parser.add_argument("--no-peer", action="store_true", help="skip the reference provider")
    args = parser.parse_args()

    from hub.config import Settings
    from identity import passwords

    tmp = Path(tempfile.mkdtemp(prefix="lgsp-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    env.update(
        LGSP_DATA_DIR=str(tmp / "data"),
        LGSP_LOG_LEVEL="WARNING",
        LGSP_SECRET_KEY=secrets.token_urlsafe(48),
        BENCH_TMP=str(tmp),
    )
    if args.workers:
        env["LGSP_WORKERS"] = str(args.workers)
    if args.threads:
        env["LGSP_THREADS"] = str(args.threads)
    hub_port = free_port()
    hub = f"http://127.0.0.1:{hub_port}"
    env["LGSP_BASE_URL"] = hub
    results: dict[str, Any] = {"machine": {"cores": os.cpu_count()}}
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        stack.callback(
            lambda: subprocess.run(
                [sys.executable, "-m", "hub.cli", "db", "stop"],
                env=env,
                capture_output=True,
                timeout=60,
            )
        )
        log(f"fresh database (embedded PostgreSQL in {tmp / 'data'}) …")
        lgsp(["db", "upgrade"], env)
        url = lgsp(["db", "url"], env)
        clients = seed(url, args.users, env)
        log(f"lgsp serve on {hub} …")
        serve = stack.enter_context(
            process(
                [sys.executable, "-m", "hub.cli", "serve", "--bind", f"127.0.0.1:{hub_port}"],
                env=env,
                name="hub",
            )
        )
        wait_http(f"{hub}/readyz", proc=serve)
        peer, peer_pid = (None, None) if args.no_peer else start_peer(stack, tmp, env)
        postgres = postmaster_pid(tmp / "data")

        cc, code = clients["cc"], clients["code"]
        token_script = PEER_SOURCE / "bench-token.mjs"
        targets = [
            (
                "hub (lgsp serve)",
                f"{hub}/oauth2/token",
                cc["client_id"],
                cc["client_secret"],
                SCOPE,
                serve.pid,
                postgres,
            )
        ]
        if peer:
            targets.append(
                (
                    "node-oidc-provider 9.13.3",
                    f"{peer}/token",
                    "peer-cc",
                    "peer-cc-secret",
                    "api:read",
                    peer_pid,
                    None,
                )
            )

        def token_load(
            generator: str, target: tuple[Any, ...], n: int
        ) -> tuple[Path, dict[str, str]]:
            """The load script and its environment: the reference's own generator (fetch),
            or bench/http-load.mjs (node:http, a tenth of the client CPU per request)."""
            _, token_url, cid, secret, scope, _, _ = target
            if generator == "fetch":
                return token_script, {
                    **env,
                    "TOKEN_URL": token_url,
                    "CLIENT_ID": cid,
                    "CLIENT_SECRET": secret,
                    "SCOPE": scope,
                    "N": str(n),
                    "C": str(args.c),
                }
            basic = base64.b64encode(
                f"{quote(cid, safe='')}:{quote(secret, safe='')}".encode()
            ).decode()
            return BENCH / "http-load.mjs", {
                **env,
                "URL": token_url,
                "METHOD": "POST",
                "HEADERS": json.dumps(
                    {
                        "authorization": f"Basic {basic}",
                        "content-type": "application/x-www-form-urlencoded",
                    }
                ),
                "BODY": urlencode({"grant_type": "client_credentials", "scope": scope}),
                "EXPECT": "access_token",
                "N": str(n),
                "C": str(args.c),
            }

        generators = ("fetch", "node:http")
        token_rows = []
        for target in targets:
            for generator in generators:
                log(f"warm-up: {target[0]} ({generator})")
                node(*token_load(generator, target, 500), cwd=BENCH)
        for round_no in range(1, args.rounds + 1):
            for generator in generators:
                for target in targets:
                    label, pid, pg = target[0], target[5], target[6]
                    log(f"token endpoint, round {round_no}: {label}, {generator} client")
                    script, load_env = token_load(generator, target, args.n)
                    row = measured(script, load_env, requests_=args.n, server=pid, postgres=pg)
                    row["label"] = f"{label} · {generator} #{round_no}"
                    token_rows.append(row)
        results["token_endpoint"] = token_rows

        log(f"introspection ({args.introspect_tokens} distinct tokens in turn) …")
        with requests.Session() as http:
            minted = [
                http.post(
                    f"{hub}/oauth2/token",
                    data={"grant_type": "client_credentials", "scope": SCOPE},
                    auth=(cc["client_id"], cc["client_secret"]),
                    timeout=10,
                ).json()["access_token"]
                for _ in range(args.introspect_tokens)
            ]
        basic = base64.b64encode(f"{cc['client_id']}:{cc['client_secret']}".encode()).decode()
        introspect_env = {
            **env,
            "URL": f"{hub}/oauth2/introspect",
            "METHOD": "POST",
            "HEADERS": json.dumps(
                {
                    "authorization": f"Basic {basic}",
                    "content-type": "application/x-www-form-urlencoded",
                }
            ),
            "BODIES": json.dumps(
                [f"token={token}&token_type_hint=access_token" for token in minted]
            ),
            "EXPECT": '"active": true',
            "C": str(args.c),
        }
        node(BENCH / "http-load.mjs", {**introspect_env, "N": "1000"}, cwd=BENCH)  # warm-up
        introspection = measured(
            BENCH / "http-load.mjs",
            {**introspect_env, "N": str(args.introspect_n)},
            requests_=args.introspect_n,
            server=serve.pid,
            postgres=postgres,
        )
        introspection["label"] = "hub introspection"
        results["introspection"] = introspection

        log("sign-in round trips …")
        users = [{"pin": pin_for(i), "password": PASSWORD} for i in range(args.users)]
        signin = measured(
            BENCH / "signin-bench.mjs",
            {
                **env,
                "ISSUER": hub,
                "CLIENT_ID": code["client_id"],
                "CLIENT_SECRET": code["client_secret"],
                "REDIRECT_URI": CALLBACK,
                "USERS": json.dumps(users),
                "N": str(args.signin_n),
                "C": str(args.signin_c),
            },
            requests_=args.signin_n,
            server=serve.pid,
            postgres=postgres,
        )
        signin["label"] = "authorize→password→code→token"
        results["signin"] = signin
        results["argon2id"] = {
            "memory_kib": passwords.MEMORY_KIB,
            "iterations": passwords.TIME_COST,
            "parallelism": passwords.PARALLELISM,
        }
        hub_settings = Settings.from_env(env)
        results["hub_workers"] = hub_settings.workers
        results["hub_threads"] = hub_settings.threads

    print()
    print(
        table(
            "Token endpoint: client_credentials, client_secret_basic, JWT access tokens "
            f"(N={args.n}, C={args.c})",
            token_rows,
        )
    )
    print()
    print(table("Introspection (RFC 7662), one JWT access token", [introspection]))
    print()
    a = results["argon2id"]
    print(
        table(
            f"Full sign-in round trip, argon2id m={a['memory_kib']} KiB "
            f"t={a['iterations']} p={a['parallelism']}",
            [signin],
        )
    )
    print()
    print(
        f"hub: lgsp serve with {results['hub_workers']} gunicorn workers of "
        f"{results['hub_threads']} threads on {os.cpu_count()} cores; cpu srv / pg / gen: CPU ms "
        "per request (per round trip for sign-in) of the server, PostgreSQL, the load generator"
    )
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()

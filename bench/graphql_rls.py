"""GraphQL through PostGraphile 5: tenant isolation by RLS vs an explicit tenant filter.

One throwaway cluster, the demo loaded twice (two databases from one template):
  - rls:    `rls enable --all`, `graphql config`, `graphql grant`; the request carries a
            JWT for tenant 1 and no filter: `allAlunos(first: 100)`
  - filter: no RLS; the same generated setup pointed at the copy, and the request names
            the tenant: `allAlunos(first: 100, condition: {empresaId: 1})`
Both servers run at once and get REQUESTS requests each, interleaved, after a warm-up;
reported: p50 and p99 of each, and the ratios (goal <= 1.2x). Needs `npm ci --prefix tools/graphql`.

Usage: python bench/graphql_rls.py [--scale 0.25] [--requests 1000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl.ops import sandbox as sandbox_ops
from auroractl.sandbox import ADMIN_ROLE, free_port

TOOLS = Path(__file__).resolve().parents[1] / "tools" / "graphql"
BIN = TOOLS / "node_modules" / ".bin"
SECRET = "bench-secret-0123456789abcdef-0123456789"
AUTH = "postgraphile_authenticator"
RLS_QUERY = "{ allAlunos(first: 100) { nodes { rowId matricula escolaId } } }"
FILTER_QUERY = (
    "{ allAlunos(first: 100, condition: {empresaId: 1}) { nodes { rowId matricula escolaId } } }"
)


def token(claims: dict) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = part(b'{"alg":"HS256","typ":"JWT"}')
    body = part(
        json.dumps({"aud": "postgraphile", "exp": int(time.time()) + 3600, **claims}).encode()
    )
    sig = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{part(sig)}"


def auroractl(dsn: str, cwd: Path, *args: str) -> None:
    env = {**os.environ, "AURORACTL_DSN": dsn}
    env.pop("PYTHONPATH", None)
    exe = Path(sys.executable).with_name("auroractl")
    subprocess.run([str(exe), *args], cwd=cwd, env=env, check=True, capture_output=True)


def serve(directory: Path, url: str, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = directory / "graphile.config.mjs"
    config.write_text(config.read_text().replace("port: 5678", f"port: {port}"))
    (directory / "node_modules").symlink_to(TOOLS / "node_modules")
    (directory / "secret").write_text(SECRET)
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "DATABASE_URL": url}
    env["JWT_SECRET_FILE"] = str(directory / "secret")
    proc = subprocess.Popen(
        [str(BIN / "postgraphile"), "-C", str(config)],
        cwd=directory,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    for _ in range(600):
        if "Server listening" in log.read_text():
            return proc, port
        time.sleep(0.1)
    raise SystemExit(f"PostGraphile did not start: {log.read_text()}")


def latencies(port: int, query: str, tok: str | None, n: int) -> tuple[list[float], int]:
    headers = {"content-type": "application/json"}
    if tok:
        headers["authorization"] = f"Bearer {tok}"
    body = json.dumps({"query": query}).encode()
    out, rows = [], 0
    for _ in range(n):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", body, headers)
        t0 = time.perf_counter()
        with urllib.request.urlopen(req) as resp:
            data = json.loads(resp.read())
        out.append(time.perf_counter() - t0)
        rows = len(data["data"]["allAlunos"]["nodes"])
    return out, rows


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.25)
    ap.add_argument("--requests", type=int, default=1000)
    args = ap.parse_args()
    if not (BIN / "postgraphile").exists():
        raise SystemExit(f"npm ci --prefix {TOOLS} first")
    work = Path(tempfile.mkdtemp(prefix="auroractl-bench-gql-"))
    with throwaway_cluster("bench") as c:
        with psycopg.connect(c.conninfo("bench"), autocommit=True) as conn:
            sandbox_ops.load_demo(conn, args.scale)
            conn.execute(f'CREATE DATABASE bench_filter TEMPLATE bench OWNER "{ADMIN_ROLE}"')
        rls_dir, filter_dir = work / "rls", work / "filter"
        for step in (
            ("map", "propose"),
            ("rls", "enable", "--all", "--yes"),
            ("graphql", "config", "--output", str(rls_dir)),
            ("graphql", "grant", "--yes"),
        ):
            auroractl(c.conninfo("bench"), work, *step)
        shutil.copytree(rls_dir, filter_dir)
        with psycopg.connect(c.conninfo("bench_filter"), autocommit=True) as conn:
            conn.execute("GRANT SELECT ON alunos TO application_user")
        procs, servers = [], {}
        try:
            for name, directory, db, query, tok in (
                ("rls (JWT, no filter)", rls_dir, "bench", RLS_QUERY, token({"empresa_id": 1})),
                ("filter (no RLS)", filter_dir, "bench_filter", FILTER_QUERY, None),
            ):
                url = f"postgres://{AUTH}@127.0.0.1:{c.port}/{db}"
                proc, port = serve(directory, url, work / f"{directory.name}.log")
                procs.append(proc)
                servers[name] = (port, query, tok)
                latencies(port, query, tok, 50)  # warm-up: plans cached, pool filled
            # Interleaved, so that a load on the machine falls on both alike.
            results = {name: ([], 0) for name in servers}
            for _ in range(args.requests):
                for name, (port, query, tok) in servers.items():
                    lat, rows = latencies(port, query, tok, 1)
                    results[name] = (results[name][0] + lat, rows)
        finally:
            for p in procs:
                p.kill()
    print(f"allAlunos(first: 100), tenant 1, scale {args.scale}, {args.requests} requests each")
    print(f"{'variant':<22} {'rows':>5} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (lat, rows) in results.items():
        print(f"{name:<22} {rows:>5} {pct(lat, 50):>8.2f} {pct(lat, 99):>8.2f}")
    (rls_lat, _), (plain_lat, _) = results.values()
    print(
        f"ratio rls/filter: p50 {pct(rls_lat, 50) / pct(plain_lat, 50):.2f}x, "
        f"p99 {pct(rls_lat, 99) / pct(plain_lat, 99):.2f}x (goal <= 1.2x)"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

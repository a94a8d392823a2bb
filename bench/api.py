"""The REST API under load: a real ``airflow api-server`` serving a big store, query latency over HTTP
and the server's memory.

    python -m bench.api --size large --store /tmp/large.db    # a store kept by bench.ingest --keep
    python -m bench.api --size large --store postgresql+psycopg2://postgres@127.0.0.1:5432/lineage_large

Starts ``airflow api-server`` (one worker, SimpleAuthManager, its own AIRFLOW_HOME) with
``[lineage_provider] store_url`` naming the store, logs in (``POST /auth/token``) and runs the query
cases of :mod:`bench.queries` through ``GET /lineage/api/v1/lineage`` (the impact summary case through
``GET /lineage/api/v1/impact/summary``) (the route's node limit is at most
10,000, so the full hub case is asked with that limit). After every query it samples the resident
memory of the server's whole process tree and prints the peak.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from bench import machine, queries, workload
from bench.processes import free_port, healthy, token

MAX_NODES = 10_000  # the REST route's largest node limit


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
    except psutil.Error:
        return 0


@contextmanager
def api_server(store: str) -> Iterator[tuple[str, str, int]]:
    """(base URL, admin token, server pid) of a running api-server over ``store``."""
    with tempfile.TemporaryDirectory(prefix="lineage-bench-api-") as home:
        password = secrets.token_urlsafe(12)
        Path(home, "passwords.json").write_text(json.dumps({"admin": password}))
        port = free_port()
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(Path(home, "dags")),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(Path(home, "passwords.json")),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": machine.kept_store_url(store),
        }
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=env,
            cwd=home,
            capture_output=True,
            check=True,
        )
        log = open(Path(home, "api-server.log"), "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)]
            + ["--workers", "1"],
            env=env,
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while not healthy(base):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(
                        f"api-server did not start: {Path(home, 'api-server.log').read_text()[-3000:]}"
                    )
                time.sleep(1)
            yield base, token(base, "admin", password), server.pid
        finally:
            try:
                os.killpg(server.pid, 15)
                server.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(server.pid, 9)
            log.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(workload.SIZES), default="medium")
    parser.add_argument(
        "--store",
        required=True,
        help="a store holding the workload: a SQLite file or a database URL (bench.ingest --keep)",
    )
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case at most")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(machine.describe(), flush=True)
    graph = workload.build_graph(workload.SIZES[args.size], args.seed)
    with (
        api_server(args.store) as (base, token, pid),
        httpx.Client(
            base_url=f"{base}/lineage/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=600
        ) as client,
    ):
        print(f"api-server pid {pid}: {tree_rss(pid) / 2**20:.0f} MiB resident before the first query")
        peak = 0
        for case in queries.cases(graph, args.queries, args.seed):
            limit = case.limit or MAX_NODES
            times, nodes, spent = [], [], 0.0
            for start in case.starts:
                params: dict[str, str | int] = {
                    "nodeId": start,
                    "depth": case.depth,
                    "direction": case.direction,
                    "limit": limit,
                }
                route = "/impact/summary" if case.summary else "/lineage"
                if case.summary:  # the whole downstream set, counted: no direction, no limit
                    params = {"nodeId": start, "depth": case.depth}
                began = time.perf_counter()
                answer = client.get(route, params=params)
                took = time.perf_counter() - began
                answer.raise_for_status()
                times.append(took * 1000)
                found = answer.json()
                nodes.append(found["total"] + 1 if case.summary else len(found["graph"]))
                peak = max(peak, tree_rss(pid))
                spent += took
                if spent > args.budget:
                    break
            print(
                f"api {case.name:30s} limit={limit:5d} n={len(times):3d} "
                f"p50={machine.percentile(times, 50):9.2f} ms p95={machine.percentile(times, 95):9.2f} ms "
                f"nodes={sum(nodes) / len(nodes):8.0f}",
                flush=True,
            )
        print(f"api-server peak resident memory (process tree): {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()

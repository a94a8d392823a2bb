"""bench/ runs: the workload generator is deterministic and each benchmark script runs on a tiny size.

No timing is asserted here: the benchmarks print their numbers (docs/benchmarks.md has the last ones).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import workload

REPO = Path(__file__).resolve().parent.parent.parent


def _first(seed: int, count: int = 200) -> str:
    graph = workload.build_graph(workload.SIZES["small"], seed)
    return json.dumps(list(itertools.islice(workload.events(graph, seed), count)))


CASES = 8  # bench.queries' cases: seven lineage answers and the hub's impact summary


def test_the_workload_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    assert _first(7) == _first(7)
    assert _first(7) != _first(8)


def test_the_workload_has_the_shape_of_its_size() -> None:
    size = workload.SIZES["small"]
    graph = workload.build_graph(size)
    assert len(graph.inputs) == size.jobs
    assert all(1 <= len(outs) <= 2 for outs in graph.outputs)
    assert max(d for outs in graph.outputs for d in outs) < size.datasets
    readers = sum(1 for ins in graph.inputs if graph.hubs[0] in ins)
    assert readers > sum(1 for ins in graph.inputs if graph.leaf_sources()[0] in ins)
    events = list(workload.events(graph))
    assert len(events) == size.events
    assert [e["eventType"] for e in events[:2]] == ["START", "COMPLETE"]


def _run(*args: str, postgres: str | None = None, ok: bool = True) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if postgres:
        env["BENCH_POSTGRES_URL"] = postgres
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    if not ok:
        assert done.returncode != 0
        return done.stderr
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("machine: ")
    return done.stdout


def test_ingest_prints_events_per_second_for_both_modes() -> None:
    out = _run("bench.ingest", "--size", "tiny")
    assert out.count("events/s=") == 2


def test_queries_print_latencies_and_result_sizes() -> None:
    out = _run("bench.queries", "--size", "tiny", "--queries", "3")
    assert out.count("p50=") == 2 * CASES and "nodes=" in out  # each case with the index off and on
    assert out.count("cold first query") == 3 and "bytesPerEdge" in out and "index off / on" in out


@pytest.mark.postgres
@pytest.mark.integration
def test_kept_stores_feed_the_query_and_api_benchmarks_on_both_backends(
    tmp_path: Path, postgres_url: str
) -> None:
    store = tmp_path / "tiny.db"
    loaded = _run("bench.ingest", "--size", "tiny", "--mode", "batched", "--keep", str(store))
    assert "ANALYZE" not in loaded  # SQLite plans well without statistics
    out = _run("bench.queries", "--size", "tiny", "--queries", "2", "--store", str(store))
    assert out.count("p50=") == 2 * CASES
    name = f"lineage_bench_test_{os.getpid()}"
    pg = ("--backend", "postgres")
    loaded = _run(
        "bench.ingest", "--size", "tiny", "--mode", "batched", *pg, "--keep", name, postgres=postgres_url
    )
    try:
        assert "ANALYZE after the load" in loaded
        url = postgres_url.rsplit("/", 1)[0] + "/" + name
        out = _run("bench.queries", "--size", "tiny", "--queries", "2", *pg, "--store", url)
        assert out.count("p50=") == 2 * CASES
        served = _run("bench.api", "--size", "tiny", "--queries", "2", "--store", url)
        assert served.count("p50=") == CASES and "peak resident memory" in served
        again = _run("bench.ingest", "--size", "tiny", *pg, "--keep", name, postgres=postgres_url, ok=False)
        assert f"{name} exists" in again
    finally:
        import sqlalchemy

        admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.integration
def test_the_api_benchmark_serves_a_kept_store_from_a_real_api_server(tmp_path: Path) -> None:
    store = tmp_path / "tiny.db"
    loaded = _run("bench.ingest", "--size", "tiny", "--mode", "batched", "--keep", str(store))
    assert "ANALYZE" not in loaded  # SQLite plans well without statistics
    out = _run("bench.api", "--size", "tiny", "--queries", "2", "--store", str(store))
    assert out.count("p50=") == CASES and "peak resident memory" in out

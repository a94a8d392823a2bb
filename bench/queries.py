"""Query latency: p50/p95 of ``store.lineage()`` upstream and downstream, from leaves and from hubs.

    python -m bench.queries --size medium --backend sqlite postgres
    python -m bench.queries --size large --store /tmp/large.db      # a store kept by bench.ingest --keep
    python -m bench.queries --size large --backend postgres --store postgresql+psycopg2://...:5432/lineage_large

Each case runs 50 queries (fewer when it passes ``--budget`` seconds) from seeded random start
nodes: upstream from sink datasets, downstream from source datasets, downstream from hub datasets
(read by hundreds of jobs) in full and with ``limit=1000``, and the hubs' impact summary
(``store.impact_summary``: the whole downstream set counted by type, namespace, DAG and owner).
Result sizes are averages.

``--index off on`` (the default) runs every case twice, side by side: walking in SQL, and with the
in-memory adjacency index (``store.adjacency``) a long-lived store keeps; each mode first times its
cold first query (a new store object, so a new engine and, with the index, its build) and prints
what the index holds (edges, bytes, bytes an edge). A summary prints both p50s and their ratio.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.core.graph import Direction
from bench import ingest, machine, workload


@dataclass(frozen=True)
class Case:
    name: str
    direction: Direction
    depth: int
    starts: list[str]
    limit: int | None = None
    summary: bool = False  # store.impact_summary instead of store.lineage


def cases(graph: workload.Graph, count: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    sinks = [workload.dataset_id(d) for d in rng.choices(graph.sinks(), k=count)]
    sources = [workload.dataset_id(d) for d in rng.choices(graph.leaf_sources(), k=count)]
    readers = Counter(d for ins in graph.inputs for d in ins)
    read_hubs = [h for h in graph.hubs if readers[h]] or [readers.most_common(1)[0][0]]
    hubs = [workload.dataset_id(read_hubs[i % len(read_hubs)]) for i in range(count)]
    found = []
    for depth in (3, 20):
        found += [
            Case(f"leaf upstream d{depth}", "upstream", depth, sinks),
            Case(f"leaf downstream d{depth}", "downstream", depth, sources),
            Case(f"hub downstream d{depth}", "downstream", depth, hubs),
        ]
    found.append(Case("hub downstream d20 limit 1000", "downstream", 20, hubs, limit=1000))
    found.append(Case("hub impact summary d20", "downstream", 20, hubs, summary=True))
    return found


@dataclass
class Timing:
    """Milliseconds and result sizes of one case's queries."""

    ms: list[float]
    nodes: list[int]
    edges: list[int]

    def line(self) -> str:
        return (
            f"n={len(self.ms):3d} p50={machine.percentile(self.ms, 50):9.2f} ms "
            f"p95={machine.percentile(self.ms, 95):9.2f} ms nodes={statistics.mean(self.nodes):9.0f} "
            f"edges={statistics.mean(self.edges):9.0f}"
        )


def query(store: LineageStore, case: Case, start: str) -> tuple[int, int]:
    """One query of a case: the nodes and edges of its answer (a summary: the nodes it counted)."""
    if case.summary:
        return store.impact_summary(start, case.depth).total + 1, 0  # + the root, as lineage counts it
    graph = store.lineage(start, case.direction, case.depth, limit=case.limit)
    return len(graph.nodes), len(graph.edges)


def timings(store: LineageStore, case: Case, budget: float) -> Timing:
    """Run a case's queries (after one to warm the caches) until they are done or pass ``budget`` s."""
    timing = Timing([], [], [])
    spent = 0.0
    query(store, case, case.starts[0])
    for start in case.starts:
        began = time.perf_counter()
        nodes, edges = query(store, case, start)
        took = time.perf_counter() - began
        timing.ms.append(took * 1000)
        timing.nodes.append(nodes)
        timing.edges.append(edges)
        spent += took
        if spent > budget:
            break
    return timing


INDEX_EDGES = 10**9  # the bench keeps the index whatever the workload's size


def open_store(url: str, mode: str) -> LineageStore:
    return LineageStore.from_url(url, adjacency_index=INDEX_EDGES if mode == "on" else 0)


def cold_first_query(url: str, mode: str, case: Case, warm: bool = False) -> tuple[float, LineageStore]:
    """Milliseconds of the first query of a new store object (new engine; with the index, its build,
    or with ``warm`` the build started in the background first, as the API server does)."""
    store = open_store(url, mode)
    if warm:
        store.warm_adjacency()
    began = time.perf_counter()
    store.lineage(case.starts[0], case.direction, case.depth, limit=case.limit)
    return (time.perf_counter() - began) * 1000, store


def run_modes(
    url: str, backend: str, size: workload.Size, found: list[Case], args: argparse.Namespace
) -> None:
    p50s: dict[tuple[str, str], float] = {}
    for mode in args.index:
        if mode == "on":
            warming, other = cold_first_query(url, mode, found[0], warm=True)
            other.close()
            print(
                f"query {backend:8s} size={size.name:6s} index=on  "
                f"cold first query, index warming {warming:9.2f} ms"
            )
        cold, store = cold_first_query(url, mode, found[0])
        try:
            print(f"query {backend:8s} size={size.name:6s} index={mode:3s} cold first query {cold:9.2f} ms")
            stats = store.adjacency_stats()
            if stats is not None:
                print(f"index {backend:8s} {stats}")
            for case in found:
                timing = timings(store, case, args.budget)
                p50s[(case.name, mode)] = machine.percentile(timing.ms, 50)
                print(
                    f"query {backend:8s} size={size.name:6s} index={mode:3s} {case.name:30s} {timing.line()}"
                )
        finally:
            store.close()
    if len(args.index) == 2:
        print(f"summary {backend} {size.name}: p50 ms, index off / on, ratio")
        for case in found:
            off, on = p50s[(case.name, "off")], p50s[(case.name, "on")]
            print(f"  {case.name:30s} {off:9.2f} {on:9.2f} {off / on:7.1f}x")


def load(url: str, size: workload.Size, seed: int) -> None:
    store = LineageStore.from_url(url)
    store.upgrade()
    began = time.perf_counter()
    count, _, _ = ingest.timed_ingest(store, ingest.batches(size, 2000, None, seed), one_by_one=False)
    store.close()
    print(f"loaded {count} events in {time.perf_counter() - began:.1f} s", flush=True)
    machine.analyze(url)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(workload.SIZES), default="small")
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    parser.add_argument(
        "--store",
        help="a store already holding the workload (bench.ingest --keep): a SQLite file or a SQLAlchemy URL",
    )
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case at most")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--index", nargs="+", choices=["off", "on"], default=["off", "on"])
    args = parser.parse_args(argv)
    size = workload.SIZES[args.size]
    print(machine.describe(), flush=True)
    graph = workload.build_graph(size, args.seed)
    for backend in args.backend:
        with ExitStack() as stack:
            if args.store:
                url = machine.kept_store_url(args.store)
            else:
                url = ingest.store_url(backend, stack, None)
                load(url, size, args.seed)
            run_modes(url, backend, size, cases(graph, args.queries, args.seed), args)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

"""Query latency: p50/p95 of ``store.lineage()`` upstream and downstream, from leaves and from hubs.

    python -m bench.queries --size medium --backend sqlite postgres
    python -m bench.queries --size large --store /tmp/large.db      # a store kept by bench.ingest --keep
    python -m bench.queries --size large --backend postgres --store postgresql+psycopg2://...:5432/lineage_large

Each case runs 50 queries (fewer when it passes ``--budget`` seconds) from seeded random start
nodes: upstream from sink datasets, downstream from source datasets, downstream from hub datasets
(read by hundreds of jobs) in full and with ``limit=1000``, and the hubs' impact summary
(``store.impact_summary``: the whole downstream set counted by type, namespace, DAG and owner).
Result sizes are averages.
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


def measure(store: LineageStore, case: Case, budget: float) -> str:
    return f"{case.name:30s} {timings(store, case, budget).line()}"


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
            store = LineageStore.from_url(url)
            try:
                for case in cases(graph, args.queries, args.seed):
                    print(
                        f"query {backend:8s} size={size.name:6s} {measure(store, case, args.budget)}",
                        flush=True,
                    )
            finally:
                store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()

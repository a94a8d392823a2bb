"""Ingest throughput: events/s through ``LineageStore.record_many`` (batches) and ``record`` (one by one).

    python -m bench.ingest --size medium --backend sqlite postgres
    python -m bench.ingest --size large --backend sqlite --keep /tmp/large.db   # the store for bench.queries

Generation time is not counted: each batch is generated first, then timed through the store.
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from airflow_lineage_provider import LineageStore
from bench import machine, workload


def batches(size: workload.Size, batch: int, limit: int | None, seed: int) -> Iterator[list[dict[str, Any]]]:
    stream = workload.events(workload.build_graph(size, seed), seed)
    if limit is not None:
        stream = itertools.islice(stream, limit)
    while chunk := list(itertools.islice(stream, batch)):
        yield chunk


def timed_ingest(
    store: LineageStore, chunks: Iterator[list[dict[str, Any]]], one_by_one: bool
) -> tuple[int, float, float]:
    """(events recorded, seconds spent in the store, CPU seconds this process spent there).

    On a shared machine the wall-clock rate depends on the load; the CPU seconds of this process
    (all of SQLite's work, none of PostgreSQL's server) hardly do, so before/after pairs compare them."""
    count, spent, cpu = 0, 0.0, 0.0
    for chunk in chunks:
        started, cpu_started = time.perf_counter(), time.process_time()
        if one_by_one:
            for event in chunk:
                store.record(event)
        else:
            store.record_many(chunk)
        spent += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        count += len(chunk)
    return count, spent, cpu


def store_url(backend: str, stack: ExitStack, keep: str | None) -> str:
    """The store to fill: a temporary one, or ``keep`` (a SQLite file, or for PostgreSQL a database
    name created here) left in place for bench.queries and bench.api."""
    if backend == "postgres":
        if keep:
            return machine.postgres_database(keep, drop=False).__enter__()
        return stack.enter_context(machine.postgres_database())
    if keep:
        if os.path.exists(keep):
            raise SystemExit(f"{keep} exists: remove it first")
        return f"sqlite:///{os.path.abspath(keep)}"
    directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="lineage-bench-"))
    return f"sqlite:///{directory}/lineage.db"


def run(backend: str, mode: str, size: workload.Size, args: argparse.Namespace) -> None:
    limit = args.limit if mode == "batched" else (args.single or min(size.events, 20_000))
    with ExitStack() as stack:
        url = store_url(backend, stack, args.keep if mode == "batched" else None)
        store = LineageStore.from_url(url)
        store.upgrade()
        try:
            chunks = batches(size, args.batch if mode == "batched" else 1000, limit, args.seed)
            count, spent, cpu = timed_ingest(store, chunks, one_by_one=mode == "single")
        finally:
            store.close()
        if mode == "batched":
            machine.analyze(url)
        print(
            f"ingest {backend:8s} {mode:8s} size={size.name:6s} events={count:>8d} "
            f"batch={args.batch if mode == 'batched' else 1:>5d} seconds={spent:8.2f} "
            f"events/s={count / spent:>9,.0f} cpu_seconds={cpu:8.2f} events/cpu_s={count / cpu:>9,.0f}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(workload.SIZES), default="small")
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    parser.add_argument("--mode", nargs="+", choices=["batched", "single"], default=["batched", "single"])
    parser.add_argument("--batch", type=int, default=1000, help="events per record_many call")
    parser.add_argument("--limit", type=int, help="only the first N events of the workload (batched)")
    parser.add_argument("--single", type=int, help="events recorded one at a time (default 20,000)")
    parser.add_argument(
        "--keep",
        help="keep the batched store (for bench.queries --store): a SQLite file, or with --backend postgres "
        "the name of a PostgreSQL database to create",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    size = workload.SIZES[args.size]
    print(machine.describe(), flush=True)
    print(
        f"workload {size.name}: {size.datasets} datasets, {size.jobs} jobs, "
        f"{size.runs} runs/job, {size.events} events"
    )
    for backend in args.backend:
        for mode in args.mode:
            run(backend, mode, size, args)


if __name__ == "__main__":
    main()

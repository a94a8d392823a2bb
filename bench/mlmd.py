"""ML Metadata side by side: the same workload and the same queries through ML Metadata and through ours.

    python -m bench.mlmd --size medium
    python -m bench.mlmd --size large --store /tmp/large.db          # ours kept by bench.ingest --keep
    python -m bench.mlmd --size medium --store postgresql+psycopg2://postgres@127.0.0.1:5432/lineage_medium

The workload (bench.workload, same seed) is written to a JSON-lines file. ML Metadata 1.17 on SQLite
loads it in ``bench/mlmd_worker.py``, run by the interpreter of a virtualenv of its own (``--venv``,
created on first use with pip: its protobuf pins clash with Airflow's), once per mode: ``per-run``
(an Execution per run, as its users write it) and ``per-job`` (an Execution per job: our graph's
shape). Ours loads the same file through ``record_many`` unless ``--store`` names a store that holds
it already. Both write the first ``--one`` events one at a time into a fresh store, and both run the
cases of :mod:`bench.queries` from the same start nodes. The tables come out as Markdown, with the
ratios (how many times ours is faster) and the ML Metadata worker's peak RSS.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from airflow_lineage_provider import LineageStore
from bench import ingest, machine, queries, sides, workload
from bench.sides import Side

VENV = Path.home() / ".cache" / "airflow-lineage-bench" / "mlmd-venv"
REQUIREMENT = "ml-metadata>=1.17,<1.18"
WORKER = Path(__file__).with_name("mlmd_worker.py")
MODES = ("per-run", "per-job")
KINDS = {"ingest", "query", "rss"}

Worker = Callable[[dict[str, Any]], list[dict[str, Any]]]  # a spec in, the worker's records out


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def has_mlmd(venv: Path) -> bool:
    python = venv_python(venv)
    return python.exists() and subprocess.run([python, "-c", "import ml_metadata"]).returncode == 0


def ensure_venv(venv: Path) -> Path:
    """The interpreter of ``venv``, created with ML Metadata from PyPI when it is missing."""
    if not has_mlmd(venv):
        print(f"creating {venv} with {REQUIREMENT} (pip, from PyPI)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
        subprocess.run([venv_python(venv), "-m", "pip", "install", "-q", REQUIREMENT], check=True)
    return venv_python(venv)


def mlmd_name(dataset_id: str) -> str:
    """``dataset:<namespace>:<name>`` as the worker names the artifact: ``<namespace>/<name>``.

    The namespace may hold ``:``; the workload's names never do, so the last ``:`` splits them.
    """
    namespace, name = dataset_id.removeprefix("dataset:").rsplit(":", 1)
    return f"{namespace}/{name}"


def spec_cases(cases: list[queries.Case]) -> list[dict[str, Any]]:
    """The cases for the worker: the same start nodes in the same order; ML Metadata has no node limit,
    so limited cases are ours alone."""
    return [
        {
            "name": c.name,
            "direction": c.direction,
            "depth": c.depth,
            "starts": [mlmd_name(s) for s in c.starts],
        }
        for c in cases
        if c.limit is None
    ]


def parse_report(text: str) -> list[dict[str, Any]]:
    """The worker's stdout: one JSON object a line, each of a known ``kind``."""
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"worker output line {number} is not JSON: {line[:200]!r}") from exc
        if not isinstance(record, dict) or record.get("kind") not in KINDS:
            raise ValueError(f"worker output line {number} has no known kind: {line[:200]!r}")
        records.append(record)
    return records


def subprocess_worker(python: Path) -> Worker:
    """The real worker: ``bench/mlmd_worker.py`` under ``python``, its progress on our stderr."""

    def run(spec: dict[str, Any]) -> list[dict[str, Any]]:
        path = Path(spec["directory"], "spec.json")
        path.write_text(json.dumps(spec))
        done = subprocess.run([python, WORKER, path], stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{WORKER.name} failed (exit {done.returncode}); its error is above")
        return parse_report(done.stdout)

    return run


def mlmd_side(mode: str, worker: Worker, spec: dict[str, Any]) -> Side:
    side = Side(f"MLMD {mode}")
    records = worker(spec)
    for record in records:
        if record["kind"] == "ingest":
            side.ingest[record["how"]] = (record["events"], record["seconds"])
        elif record["kind"] == "query":
            nodes = [a + e for a, e in zip(record["artifacts"], record["executions"], strict=True)]
            side.queries[record["case"]] = queries.Timing(record["ms"], nodes, [])
        else:
            side.rss_mib = record["mib"]
    side.load.append(os.getloadavg()[0])
    return side


def read_chunks(path: Path, batch: int, limit: int | None = None) -> Iterator[list[dict[str, Any]]]:
    with open(path, encoding="utf-8") as stream:
        lines = itertools.islice(stream, limit)
        while chunk := [json.loads(line) for line in itertools.islice(lines, batch)]:
            yield chunk


def timed_load(url: str, chunks: Iterator[list[dict[str, Any]]], one_by_one: bool) -> tuple[int, float]:
    store = LineageStore.from_url(url)
    store.upgrade()
    try:
        count, seconds, _ = ingest.timed_ingest(store, chunks, one_by_one)
        return count, seconds
    finally:
        store.close()


def our_side(args: argparse.Namespace, path: Path, cases: list[queries.Case], stack: ExitStack) -> Side:
    side = Side("ours")
    backend = "postgres" if args.store and args.store.startswith("postgresql") else args.backend
    if args.one:
        one_url = ingest.store_url(backend, stack, None)
        side.ingest["one"] = timed_load(one_url, read_chunks(path, 1000, args.one), one_by_one=True)
    if args.store:
        url = machine.kept_store_url(args.store)
    else:
        url = ingest.store_url(backend, stack, None)
        side.ingest["batched"] = timed_load(url, read_chunks(path, args.batch), one_by_one=False)
        machine.analyze(url)
    print(f"ours ({backend}): {url.split('@')[-1]}", flush=True)
    store = LineageStore.from_url(url)
    try:
        for case in cases:
            side.queries[case.name] = queries.timings(store, case, args.budget)
    finally:
        store.close()
    side.load.append(os.getloadavg()[0])
    return side


def main(argv: list[str] | None = None, worker: Worker | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(workload.SIZES), default="small")
    parser.add_argument(
        "--store", help="ours already loaded with the workload (bench.ingest --keep): a file or URL"
    )
    parser.add_argument(
        "--backend", choices=["sqlite", "postgres"], default="sqlite", help="ours, without --store"
    )
    parser.add_argument("--queries", type=int, default=50, help="queries per case")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case and side at most")
    parser.add_argument("--batch", type=int, default=1000, help="events per batched write, both sides")
    parser.add_argument("--one", type=int, default=20_000, help="events written one at a time (0: skip)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--venv", type=Path, default=VENV, help="ML Metadata's virtualenv (created if missing)"
    )
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    size = workload.SIZES[args.size]
    args.one = min(args.one, size.events)
    print(machine.describe(), flush=True)
    print(
        f"workload {size.name}: {size.datasets} datasets, {size.jobs} jobs, "
        f"{size.runs} runs/job, {size.events} events"
    )
    cases = queries.cases(workload.build_graph(size, args.seed), args.queries, args.seed)
    run_worker = worker or subprocess_worker(ensure_venv(args.venv))
    with ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lineage-bench-mlmd-")))
        path = directory / "workload.jsonl"
        workload.main([size.name, "--seed", str(args.seed), "--out", str(path)])
        ours = our_side(args, path, cases, stack)
        mlmd = []
        for mode in args.modes:
            (directory / mode).mkdir()
            spec = {
                "workload": str(path),
                "mode": mode,
                "batch": args.batch,
                "one": args.one,
                "budget": args.budget,
                "directory": str(directory / mode),
                "cases": spec_cases(cases),
            }
            mlmd.append(mlmd_side(mode, run_worker, spec))
    print(sides.tables(ours, mlmd, args.batch, args.one, args.store))
    if args.json:
        args.json.write_text(json.dumps({"size": size.name, "sides": sides.report([ours, *mlmd])}, indent=1))
    print(machine.describe(), flush=True)


if __name__ == "__main__":
    main()

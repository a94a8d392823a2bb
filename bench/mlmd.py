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
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_lineage_provider import LineageStore
from bench import ingest, machine, queries, workload

VENV = Path.home() / ".cache" / "airflow-lineage-bench" / "mlmd-venv"
REQUIREMENT = "ml-metadata>=1.17,<1.18"
WORKER = Path(__file__).with_name("mlmd_worker.py")
MODES = ("per-run", "per-job")
KINDS = {"ingest", "query", "rss"}

Worker = Callable[[dict[str, Any]], list[dict[str, Any]]]  # a spec in, the worker's records out


@dataclass
class Side:
    """One store's numbers: ingest as (events, seconds) by how it was written, timings by case."""

    name: str
    ingest: dict[str, tuple[int, float]] = field(default_factory=dict)
    queries: dict[str, queries.Timing] = field(default_factory=dict)
    rss_mib: float | None = None
    load: list[float] = field(default_factory=lambda: [os.getloadavg()[0]])  # 1-minute, at start and end

    def rate(self, how: str) -> float | None:
        if how not in self.ingest:
            return None
        events, seconds = self.ingest[how]
        return events / seconds if seconds else None


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
        return ingest.timed_ingest(store, chunks, one_by_one)
    finally:
        store.close()


def our_side(args: argparse.Namespace, path: Path, cases: list[queries.Case], stack: ExitStack) -> Side:
    side = Side("ours")
    backend = "postgres" if args.store and args.store.startswith("postgresql") else args.backend
    if args.one:
        one_url = ingest.store_url(backend, stack, None)
        side.ingest["one"] = timed_load(one_url, read_chunks(path, 1000, args.one), one_by_one=True)
    if args.store:
        url = args.store if "://" in args.store else f"sqlite:///{Path(args.store).resolve()}"
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


def _ratio(slow: float | None, fast: float | None) -> str:
    return f"{slow / fast:,.1f}x" if slow and fast else "-"


def _rate(side: Side, how: str) -> str:
    rate = side.rate(how)
    return f"{rate:,.0f}" if rate is not None else "-"


def _p(timing: queries.Timing | None) -> str:
    if timing is None:
        return "-"
    return f"{machine.percentile(timing.ms, 50):,.2f} / {machine.percentile(timing.ms, 95):,.2f}"


def _p50(timing: queries.Timing | None) -> float | None:
    return machine.percentile(timing.ms, 50) if timing else None


def _nodes(timing: queries.Timing | None) -> str:
    return f"{statistics.mean(timing.nodes):,.0f}" if timing else "-"


def tables(ours: Side, mlmd: list[Side], args: argparse.Namespace) -> str:
    """The Markdown tables: ingest, then one row per query case."""
    names = [s.name for s in mlmd]
    head = ["how", *names, "ours", *(f"ours / {n}" for n in names)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    hows = {"batched": f"batched ({args.batch} a batch)", "one": f"one at a time (first {args.one:,} events)"}
    for how, label in hows.items():
        cells = [label, *(_rate(s, how) for s in mlmd), _rate(ours, how)]
        cells += [_ratio(ours.rate(how), s.rate(how)) for s in mlmd]
        lines.append("| " + " | ".join(cells) + " |")
    if "batched" not in ours.ingest:
        lines.append(f"\nours batched: not measured in this run (--store {args.store} was loaded earlier)")
    head = ["case", *(f"{n} p50 / p95 ms" for n in names), "ours p50 / p95 ms"]
    head += [f"{n} / ours (p50)" for n in names] + [f"nodes {n}" for n in names] + ["nodes ours", "queries"]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case, timing in ours.queries.items():
        found = [s.queries.get(case) for s in mlmd]
        cells = [case, *(_p(t) for t in found), _p(timing)]
        cells += [_ratio(_p50(t), _p50(timing)) for t in found]
        cells += [*(_nodes(t) for t in found), _nodes(timing)]
        cells.append(" / ".join(str(len(t.ms)) if t else "-" for t in [*found, timing]))
        lines.append("| " + " | ".join(cells) + " |")
    rss = ", ".join(f"{s.name} {s.rss_mib:,.0f} MiB" for s in mlmd if s.rss_mib is not None)
    ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines += ["", f"peak RSS: ML Metadata worker {rss or '-'}; this process (ours) {ours_rss:,.0f} MiB"]
    loads = "; ".join(f"{s.name} {s.load[0]:.2f} -> {s.load[-1]:.2f}" for s in [ours, *mlmd])
    lines.append(f"load average (1 min) when each side started -> ended: {loads}")
    return "\n".join(lines)


def report(sides: list[Side]) -> dict[str, Any]:
    """The numbers as JSON (``--json``)."""
    return {
        s.name: {
            "ingest": {how: {"events": e, "seconds": t} for how, (e, t) in s.ingest.items()},
            "queries": {
                case: {
                    "n": len(t.ms),
                    "p50_ms": machine.percentile(t.ms, 50),
                    "p95_ms": machine.percentile(t.ms, 95),
                    "nodes": t.nodes,
                }
                for case, t in s.queries.items()
            },
            "rss_mib": s.rss_mib,
            "load": s.load,
        }
        for s in sides
    }


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
    print(tables(ours, mlmd, args))
    if args.json:
        args.json.write_text(json.dumps({"size": size.name, "sides": report([ours, *mlmd])}, indent=1))
    print(machine.describe(), flush=True)


if __name__ == "__main__":
    main()

"""bench.mlmd: both sides get the same start nodes, the worker's protocol is parsed strictly, the tables
carry what the sides measured, and the real ML Metadata worker sees our graph when run per job.

The last test needs ML Metadata's own virtualenv (bench.mlmd creates it with pip on first use); CI
does not install it (slow), so there it is skipped, and the skip says so. No timing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import mlmd, queries, workload

REPO = Path(__file__).resolve().parent.parent.parent


def _cases(count: int = 4) -> list[queries.Case]:
    return queries.cases(workload.build_graph(workload.SIZES["tiny"]), count, 7)


def test_an_artifact_name_splits_the_node_id_at_its_last_colon() -> None:
    assert (
        mlmd.mlmd_name("dataset:postgres://warehouse:5432:db.schema.t")
        == "postgres://warehouse:5432/db.schema.t"
    )


def test_the_worker_starts_from_our_start_nodes_in_our_order_without_the_limited_case() -> None:
    cases = _cases()
    sent = mlmd.spec_cases(cases)
    unlimited = [c for c in cases if c.limit is None]
    assert len(sent) == len(unlimited) == len(cases) - 1
    graph = workload.build_graph(workload.SIZES["tiny"])
    names = {
        f"{d['namespace']}/{d['name']}"
        for event in workload.events(graph)
        for d in event["inputs"] + event["outputs"]
    }
    for ours, theirs in zip(unlimited, sent, strict=True):
        assert (theirs["name"], theirs["direction"], theirs["depth"]) == (
            ours.name,
            ours.direction,
            ours.depth,
        )
        assert theirs["starts"] == [mlmd.mlmd_name(s) for s in ours.starts]
        assert set(theirs["starts"]) <= names  # the artifacts the worker makes from the events


def test_the_report_parser_takes_records_and_rejects_anything_else() -> None:
    good = '{"kind": "ingest", "how": "one", "events": 3, "seconds": 0.5}\n{"kind": "rss", "mib": 40}\n'
    assert [r["kind"] for r in mlmd.parse_report(good)] == ["ingest", "rss"]
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        mlmd.parse_report(good.splitlines()[0] + "\nWARNING: absl says hello\n")
    with pytest.raises(ValueError, match="line 1 has no known kind"):
        mlmd.parse_report('{"kind": "surprise"}\n')


class FakeWorker:
    """Stands in for bench/mlmd_worker.py at our seam: answers each spec with fixed times per mode."""

    def __init__(self) -> None:
        self.specs: list[dict[str, Any]] = []

    def __call__(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        self.specs.append(spec)
        with open(spec["workload"], encoding="utf-8") as stream:
            events = sum(1 for _ in stream)
        ms = 40.0 if spec["mode"] == "per-run" else 20.0
        records: list[dict[str, Any]] = [
            {"kind": "ingest", "how": "batched", "events": events, "seconds": events / 1000}
        ]
        if spec["one"]:  # the worker writes nothing one at a time when told 0
            records.append(
                {"kind": "ingest", "how": "one", "events": spec["one"], "seconds": spec["one"] / 100}
            )
        for case in spec["cases"]:
            n = len(case["starts"])
            records.append(
                {
                    "kind": "query",
                    "case": case["name"],
                    "ms": [ms] * n,
                    "artifacts": [7] * n,
                    "executions": [5] * n,
                }
            )
        return [*records, {"kind": "rss", "mib": 123.0}]


def test_the_tables_put_each_sides_numbers_and_ratios_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeWorker()
    out_json = tmp_path / "r.json"
    mlmd.main(["--size", "tiny", "--queries", "3", "--one", "40", "--json", str(out_json)], worker=fake)
    out = capsys.readouterr().out
    assert out.startswith("machine: ") and out.rstrip().splitlines()[-1].startswith("machine: ")
    assert [s["mode"] for s in fake.specs] == ["per-run", "per-job"]
    assert all(s["one"] == 40 and s["batch"] == 1000 for s in fake.specs)
    assert "| batched (1000 a batch) | 1,000 | 1,000 |" in out
    assert "| one at a time (first 40 events) | 100 | 100 |" in out
    numbers = json.loads(out_json.read_text())["sides"]
    assert numbers["ours"]["ingest"]["batched"]["events"] == workload.SIZES["tiny"].events
    assert numbers["ours"]["ingest"]["one"]["events"] == 40
    for case in _cases(3):
        row = next(line for line in out.splitlines() if line.startswith(f"| {case.name} |"))
        ours = numbers["ours"]["queries"][case.name]
        assert ours["n"] == 3 and len(ours["nodes"]) == 3
        if case.limit:
            assert row.startswith(f"| {case.name} | - | - |")
            continue
        assert row.startswith(f"| {case.name} | 40.00 / 40.00 | 20.00 / 20.00 |")
        assert f"| {40 / ours['p50_ms']:,.1f}x | {20 / ours['p50_ms']:,.1f}x | 12 | 12 |" in row
    assert "ML Metadata worker MLMD per-run 123 MiB, MLMD per-job 123 MiB" in out
    assert "load average (1 min) when each side started -> ended: ours " in out


def test_a_kept_store_is_queried_and_its_batched_ingest_not_claimed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "kept.db"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    keep = [sys.executable, "-m", "bench.ingest", "--size", "tiny", "--mode", "batched", "--keep", str(store)]
    subprocess.run(keep, cwd=REPO, env=env, check=True, capture_output=True)
    mlmd.main(["--size", "tiny", "--queries", "2", "--one", "0", "--store", str(store)], worker=FakeWorker())
    out = capsys.readouterr().out
    assert f"ours batched: not measured in this run (--store {store} was loaded earlier)" in out
    assert "| batched (1000 a batch) | 1,000 | 1,000 | - | - | - |" in out
    assert "| leaf upstream d3 | 40.00 / 40.00 |" in out


def _skip_reason() -> str | None:
    if mlmd.has_mlmd(mlmd.VENV):
        return None
    reason = f"ML Metadata's virtualenv is not at {mlmd.VENV} (python -m bench.mlmd creates it)"
    if os.environ.get("CI") == "true":
        reason += (
            "; CI=true: CI does not install ml-metadata (too slow), so the real worker is NOT tested here"
        )
    return reason


@pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")
def test_the_real_worker_per_job_finds_exactly_our_nodes(tmp_path: Path) -> None:
    out_json = tmp_path / "r.json"
    command = [
        sys.executable,
        "-m",
        "bench.mlmd",
        "--size",
        "tiny",
        "--queries",
        "3",
        "--json",
        str(out_json),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    sides = json.loads(out_json.read_text())["sides"]
    events = workload.SIZES["tiny"].events
    for name in ("MLMD per-run", "MLMD per-job"):
        assert sides[name]["ingest"]["batched"]["events"] == sides[name]["ingest"]["one"]["events"] == events
        assert sides[name]["rss_mib"] > 0
    for case, ours in sides["ours"]["queries"].items():
        if "limit" in case:
            assert case not in sides["MLMD per-job"]["queries"]
            continue
        per_job, per_run = sides["MLMD per-job"]["queries"][case], sides["MLMD per-run"]["queries"][case]
        assert per_job["nodes"] == ours["nodes"], case  # datasets + jobs = artifacts + executions
        assert all(r > j for r, j in zip(per_run["nodes"], per_job["nodes"], strict=True)), (
            case
        )  # runs outnumber jobs

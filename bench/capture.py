"""Capture overhead: a DAG of 20 trivial tasks run with lineage disabled and enabled.

    python -m bench.capture --runs 7

A fresh ``AIRFLOW_HOME`` (its metadata DB migrated once) is shared by both modes; each mode runs in
its own Python process (the plugin reads ``[lineage_provider] disabled`` when Airflow loads it) that
runs ``dag.test()`` — what ``airflow dags test`` runs — ``--runs`` times plus one warm-up, with the
default embedded SQLite store, the default direct emitter and its outbox. The added cost per task is
(median enabled - median disabled) / 20.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import machine

DAGS = Path(__file__).resolve().parent / "dags"
TASKS = 20


def child(runs: int) -> None:
    """In the measuring process: run the DAG runs+1 times, print the seconds of each as JSON."""
    import importlib.util
    import logging

    import pendulum

    logging.disable(logging.WARNING)
    spec = importlib.util.spec_from_file_location("bench_capture_dag", DAGS / "bench_capture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag = module.dag
    hooks = _time_listener_hooks()
    times, per_task = [], []
    for number in range(runs + 1):
        hooks.clear()
        began = time.perf_counter()
        dag.test(logical_date=pendulum.datetime(2026, 1, 1).add(minutes=number), use_executor=False)
        times.append(time.perf_counter() - began)
        per_task.append(sum(hooks) / TASKS)
    print("TIMES " + json.dumps({"runs": times[1:], "hooks": per_task[1:]}))


def _time_listener_hooks() -> list[float]:
    """Seconds spent in each task hook of the lineage listener (start and end of each task)."""
    from airflow_lineage_provider.capture.listener import LineageListener

    spent: list[float] = []
    original = LineageListener._task_event

    def timed(self: LineageListener, *args: object, **kwargs: object) -> None:
        began = time.perf_counter()
        try:
            original(self, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            spent.append(time.perf_counter() - began)

    LineageListener._task_event = timed  # type: ignore[method-assign]
    return spent


def measure(home: str, disabled: bool, runs: int) -> dict[str, list[float]]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LINEAGE_PROVIDER__DISABLED": str(disabled),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.capture", "--child", "--runs", str(runs)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("TIMES "))
    found: dict[str, list[float]] = json.loads(line[6:])
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured DAG runs per mode (after a warm-up)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.runs)
        return
    print(machine.describe(), flush=True)
    with tempfile.TemporaryDirectory(prefix="lineage-bench-home-") as home:
        env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, check=True
        )
        medians = {}
        for disabled in (True, False):
            found = measure(home, disabled, args.runs)
            mode = "disabled" if disabled else "enabled"
            medians[mode] = statistics.median(found["runs"])
            shown = " ".join(f"{t:.3f}" for t in found["runs"])
            print(f"capture {mode:8s} runs={args.runs} median={medians[mode]:.3f} s per DAG run ({shown})")
        hooks = [h * 1000 for h in found["hooks"]]
        added = (medians["enabled"] - medians["disabled"]) / TASKS * 1000
        print(f"capture added per task, end to end: {added:.1f} ms ((median enabled - disabled) / {TASKS})")
        print(
            f"capture time in the listener per task (start + end): p50 {statistics.median(hooks):.2f} ms, "
            f"max {max(hooks):.2f} ms over {len(hooks)} runs"
        )


if __name__ == "__main__":
    main()

"""``bench.capture --executor local``: the 20-task DAG under real task processes.

A temporary ``AIRFLOW_HOME`` (SQLite metadata DB, the default embedded lineage store) runs a
scheduler, a dag-processor and an api-server with the LocalExecutor (``[core] parallelism`` 2), as
``tests/integration/test_capture_scheduler.py`` does, with the same helpers. The deployment is
started twice, with lineage disabled and then enabled (task processes read ``disabled`` when they
load the plugin); each time the DAG is triggered ``runs`` times through the REST API. Figures:

* the listener's time per task (START + COMPLETE) inside each real task process: the DAG file
  times the listener's task hooks when ``BENCH_CAPTURE_HOOK_TIMES`` names a file (one line per hook);
* each task instance's duration from Airflow's metadata DB (start to the success report: it covers
  the START hook; the COMPLETE hook runs after the task reported success);
* each DAG run's duration per task (every task process from start to exit, scheduling included).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.capture import TASKS
from tests.integration.apiserver import USERS, airflow, airflow_env, finished_state, healthy, token, trigger
from tests.integration.processes import free_port, stop, wait_for
from tests.integration.test_capture_scheduler import COMPONENTS

DAG_ID = "bench_capture"
REPO = Path(__file__).resolve().parent.parent
HOOK_TIMES = "BENCH_CAPTURE_HOOK_TIMES"
MODES = ("disabled", "enabled")


@dataclass
class Figures:
    """What one mode measured: per task instance, per DAG run, and per task hook (seconds)."""

    task_durations: list[float] = field(default_factory=list)
    run_durations: list[float] = field(default_factory=list)
    listener_per_task: list[float] = field(default_factory=list)
    start_hooks: list[float] = field(default_factory=list)
    complete_hooks: list[float] = field(default_factory=list)


def _environment(home: Path, dags: Path, disabled: bool, hook_times: Path) -> dict[str, str]:
    port = free_port()
    env = airflow_env(home, dags, f"sqlite:///{home / 'lineage.db'}", port)
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{env['AIRFLOW__API__BASE_URL']}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__LINEAGE_PROVIDER__DISABLED": str(disabled),
            # the DAG file imports bench.capture; a PYTHONPATH given to the benchmark stays in front
            "PYTHONPATH": os.pathsep.join(filter(None, (env.get("PYTHONPATH"), str(REPO)))),
            HOOK_TIMES: str(hook_times),
        }
    )
    return env


def _durations(home: Path, run_ids: list[str]) -> tuple[list[float], list[float]]:
    """(task instance durations, DAG run durations per task) of the runs, from the metadata DB."""
    db = sqlite3.connect(home / "airflow.db")
    try:
        marks = ",".join("?" * len(run_ids))
        tasks = db.execute(
            f"SELECT (julianday(end_date) - julianday(start_date)) * 86400 FROM task_instance "
            f"WHERE dag_id = ? AND run_id IN ({marks}) AND state = 'success'",
            [DAG_ID, *run_ids],
        ).fetchall()
        runs = db.execute(
            f"SELECT (julianday(end_date) - julianday(start_date)) * 86400 FROM dag_run "
            f"WHERE dag_id = ? AND run_id IN ({marks})",
            [DAG_ID, *run_ids],
        ).fetchall()
    finally:
        db.close()
    return [row[0] for row in tasks], [row[0] / TASKS for row in runs]


def _hooks(hook_times: Path) -> tuple[list[float], list[float], list[float]]:
    """(START + COMPLETE, START, COMPLETE) seconds of each task instance, from the lines the task
    processes wrote."""
    per_task: dict[str, float] = {}
    by_type: dict[str, list[float]] = {"START": [], "COMPLETE": []}
    if hook_times.exists():
        for line in hook_times.read_text().splitlines():
            key, event_type, seconds = line.rsplit(" ", 2)
            per_task[key] = per_task.get(key, 0.0) + float(seconds)
            by_type.setdefault(event_type, []).append(float(seconds))
    return list(per_task.values()), by_type["START"], by_type["COMPLETE"]


def measure(base: Path, dags: Path, disabled: bool, runs: int) -> Figures:
    """Start the deployment with lineage ``disabled`` or not, run the DAG ``runs`` times, stop it."""
    home = base / "home"
    logs = base / ("logs-disabled" if disabled else "logs-enabled")
    logs.mkdir()
    hook_times = base / f"hooks-{'disabled' if disabled else 'enabled'}.txt"
    env = _environment(home, dags, disabled, hook_times)
    first = not home.exists()
    if first:
        home.mkdir()
        passwords = {user: secrets.token_urlsafe(12) for user in USERS}
        (home / "passwords.json").write_text(json.dumps(passwords))
        airflow(env, "db", "migrate")
    passwords = json.loads((home / "passwords.json").read_text())
    processes: list[subprocess.Popen[bytes]] = []
    run_ids = []
    try:
        for name, args in COMPONENTS.items():
            with open(logs / f"{name}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "airflow", *args],
                        env=env,
                        cwd=home,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        base_url = env["AIRFLOW__API__BASE_URL"]
        wait_for("the api-server", lambda: healthy(base_url), 180, logs)
        import httpx

        headers = {"Authorization": f"Bearer {token(base_url, 'admin', passwords['admin'])}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as api:
            for _ in range(runs):
                run_id = trigger(api, DAG_ID, logs)
                state = finished_state(api, DAG_ID, run_id, logs, timeout=600)
                if state != "success":
                    raise SystemExit(f"run {run_id} of {DAG_ID} ended {state}; logs in {logs}")
                run_ids.append(run_id)
    finally:
        stop(processes)
    tasks, dag_runs = _durations(home, run_ids)
    return Figures(tasks, dag_runs, *_hooks(hook_times))


def main(runs: int) -> None:
    """Print the figures of both modes and the added milliseconds per task."""
    dags = Path(__file__).resolve().parent / "dags"
    with tempfile.TemporaryDirectory(prefix="lineage-bench-local-") as base:
        found = {mode: measure(Path(base), dags, mode == "disabled", runs) for mode in MODES}
    for mode, figures in found.items():
        task_p50 = statistics.median(figures.task_durations) * 1000
        run_p50 = statistics.median(figures.run_durations) * 1000
        print(
            f"local {mode:8s} runs={runs} task instance p50={task_p50:.0f} ms "
            f"(n={len(figures.task_durations)}), DAG run per task p50={run_p50:.0f} ms"
        )
    off, on = found["disabled"], found["enabled"]
    added_task = (statistics.median(on.task_durations) - statistics.median(off.task_durations)) * 1000
    added_run = (statistics.median(on.run_durations) - statistics.median(off.run_durations)) * 1000
    print(
        f"local added per task instance (START hook inside it): {added_task:.1f} ms (p50 enabled - disabled)"
    )
    print(f"local added per task, DAG run wall time / {TASKS}: {added_run:.1f} ms (p50 enabled - disabled)")
    hooks = [h * 1000 for h in on.listener_per_task]
    if hooks:
        print(
            f"local time in the listener per task (start + end) in real task processes: p50 "
            f"{statistics.median(hooks):.2f} ms, max {max(hooks):.2f} ms over {len(hooks)} tasks; "
            f"START p50 {statistics.median(on.start_hooks) * 1000:.2f} ms (each task process's first "
            f"event), COMPLETE p50 {statistics.median(on.complete_hooks) * 1000:.2f} ms"
        )

"""``bench.capture --executor local|celery``: lineage off, ours and the official provider, side by side.

In one run, one fresh deployment per mode (``bench/deployment.py``), the same 20-task DAG triggered
``runs`` times through the REST API after ``warmup`` runs that are not measured (the first workloads of
a fresh executor worker pay the worker's own start):

* ``off``: our provider disabled (``[lineage_provider] disabled``), the official one too;
* ``ours``: this provider with its defaults, the store embedded SQLite or a fresh PostgreSQL database
  (``--store``), the official provider disabled;
* ``official-fork``: the official OpenLineage provider as installed (a fork per event), a file
  transport, ours disabled;
* ``official-thread``: the same with ``[openlineage] execute_in_thread = True``;
* ``paired``: this provider as in ``ours``, but about half of the task processes, picked at random,
  run without our listener (``bench/plugins``): both halves run in one deployment at the same time,
  so their difference is capture's cost under the same load (modes minutes apart on a shared
  machine differ by more than that).

The figure that compares them is listener-agnostic: the task supervisor's own duration of each
workload, fork to exit (``bench/workloadlog.py``), p50 and p99 per task, minus the ``off`` mode's.
Also, for the providers' listeners: their hooks' time inside task processes and the scheduler's
DAG-run hooks (``bench/plugins``); for ours, each task's delivery latency, from the task's end in
Airflow's metadata to its COMPLETE in the store's raw table (``bench/delivery.py``). Each mode checks
that it did what it says (events in our store, in the official file transport's file, or none).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import delivery, hooktimes, report, workloadlog
from bench.deployment import (
    PLUGINS,
    TaskInstance,
    Templates,
    base_environment,
    forget_queue,
    postgres_database,
    run_dag,
    start_components,
    task_instances,
)
from bench.processes import BenchError, stop
from bench.report import DELIVERY_TIMEOUT, OURS, TASKS, Result

MODES = ("off", "ours", "official-fork", "official-thread", "paired")
STORES = ("sqlite", "postgres")


def labels(modes: list[str], stores: list[str]) -> list[tuple[str, str, str | None]]:
    """(label, mode, store) of each deployment to run: ``ours`` once per store."""
    found: list[tuple[str, str, str | None]] = []
    for mode in modes:
        if mode in OURS:
            found += [(f"{mode}[{store}]" if len(stores) > 1 else mode, mode, store) for store in stores]
        else:
            found.append((mode, mode, None))
    return found


def mode_environment(mode: str, base: Path, store_url: str) -> dict[str, str]:
    """What a mode adds to the deployment's environment."""
    ours = mode in OURS
    official = mode.startswith("official")
    env = {
        "AIRFLOW__LINEAGE_PROVIDER__DISABLED": str(not ours),
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": store_url,
        "AIRFLOW__OPENLINEAGE__DISABLED": str(not official),
    }
    if official:
        transport = {"type": "file", "log_file_path": str(base / "openlineage.jsonl"), "append": True}
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(transport)
        env["AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD"] = str(mode == "official-thread")
    # The timing plugin in every mode, "off" included (where it finds no listener to time): loading it
    # costs each task process the same in every mode, so the difference is the providers' alone.
    if mode == "paired":
        env["BENCH_CAPTURE_PAIRED"] = "1"
        # the reconciler would record the uncaptured half's events from Airflow's records
        env["AIRFLOW__LINEAGE_PROVIDER__RECONCILE_INTERVAL"] = "0"
    env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(PLUGINS)
    env["BENCH_CAPTURE_HOOK_TIMES"] = str(base / "hooks.txt")
    env["BENCH_CAPTURE_DAG_HOOK_TIMES"] = str(base / "dag-hooks.txt")
    return env


def official_events(path: Path, runs: set[str] | None = None) -> dict[str, int]:
    """Events the file transport wrote, by type: task events only (job names ``<dag>.<task>``), with
    ``runs`` only those of these DAG runs (the ``airflow`` run facet's ``dagRun.run_id``)."""
    counts: dict[str, int] = {}
    if not path.exists():
        return counts
    for line in path.read_text(errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        airflow = ((event.get("run") or {}).get("facets") or {}).get("airflow") or {}
        if runs is not None and (airflow.get("dagRun") or {}).get("run_id") not in runs:
            continue
        if "." in str((event.get("job") or {}).get("name", "")):
            kind = str(event.get("eventType"))
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def store_events(url: str) -> dict[str, int]:
    """Events in our store's raw table, by type (empty when the store was never created)."""
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        return {}
    try:
        conn = delivery._connect(url)
    except Exception:  # noqa: BLE001 - no database: nothing stored
        return {}
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT event_type, COUNT(*) FROM {delivery.TABLE} GROUP BY event_type")
        return {str(kind): int(count) for kind, count in cursor.fetchall()}
    except Exception:  # noqa: BLE001 - no table: nothing stored
        return {}
    finally:
        conn.close()


def measure(
    label: str,
    mode: str,
    store: str | None,
    executor: str,
    runs: tuple[int, int],
    base: Path,
    templates: Templates,
) -> Result:
    """Run one mode's deployment; everything it started is stopped before this returns."""
    result = Result(label)
    base.mkdir()
    home, logs = base / "home", base / "logs"
    metadata_url = templates.fresh(home)
    logs.mkdir()
    queue = f"lineage_bench_{uuid.uuid4().hex[:10]}"
    processes: list[subprocess.Popen[bytes]] = []
    poller: delivery.Poller | None = None
    with contextlib.ExitStack() as stack:
        store_url = f"sqlite:///{home / 'lineage.db'}"
        if store == "postgres":
            store_url = stack.enter_context(postgres_database("lineage_bench_store"))
        env = base_environment(home, executor, metadata_url, queue)
        env.update(mode_environment(mode, base, store_url))
        if store == "postgres":  # as airflow-init does in docker-compose.yaml
            _lineage_db_upgrade(env)
        if executor == "celery":
            stack.callback(forget_queue, queue)
        stack.callback(stop, processes)
        run_ids: list[str] = []
        try:
            token = start_components(env, home, logs, queue, processes)
            if mode in OURS:
                poller = delivery.Poller(store_url)
                poller.start()
                stack.callback(poller.stop)
            import httpx

            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=env["AIRFLOW__API__BASE_URL"], headers=headers, timeout=60) as api:
                warmup, measured = runs
                for number in range(warmup + measured):
                    began = time.monotonic()
                    run_id = run_dag(api, logs)
                    if number >= warmup:
                        run_ids.append(run_id)
                        result.run_walls.append((time.monotonic() - began) / TASKS)
            tis = task_instances(home, metadata_url, run_ids)
            if poller is not None:
                delivery.wait_until_seen(poller, {t.key for t in tis}, DELIVERY_TIMEOUT)
        except BenchError as exc:
            result.error = str(exc)
            return result
        finally:
            stop(processes)  # before reading the logs: every component has written all it will
            if poller is not None:
                poller.stop()
        _collect(result, mode, base, logs, store_url, tis, poller)
    return result


def _lineage_db_upgrade(env: dict[str, str]) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "airflow-lineage"), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise BenchError(f"airflow-lineage db upgrade failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def _collect(
    result: Result,
    mode: str,
    base: Path,
    logs: Path,
    store_url: str,
    tis: list[TaskInstance],
    poller: delivery.Poller | None,
) -> None:
    keys = {t.id: t.key for t in tis}
    measured = {t.key.rsplit("/", 2)[0] for t in tis}
    result.hooks = hooktimes.read(base / "hooks.txt", runs=measured)
    for log in sorted(logs.glob("*.log")):
        with open(log, errors="replace") as stream:
            for workload in workloadlog.parse(stream):
                key = keys.get(_uuid_hex(workload.workload_id))
                if key is not None and workload.final_state == "success":
                    result.workloads.append(workload.duration)
                    result.workload_keys.append(key)
    result.dag_hooks = hooktimes.read(base / "dag-hooks.txt")  # every run's: the first is the process's first
    uncaptured = result.hooks.uncaptured  # paired: the task processes run without our listener
    if poller is not None:
        ended = {t.key: t.end for t in tis if t.end is not None and t.key not in uncaptured}
        result.delivery, missing = delivery.latencies(poller.seen, ended)
        result.undelivered = len(missing)
    ours, official = store_events(store_url), official_events(base / "openlineage.jsonl", measured)
    successes = sum(1 for t in tis if t.state == "success")
    captured = sum(1 for t in tis if t.state == "success" and t.key not in uncaptured)
    expected = {"off": (0, 0), "ours": (successes, 0), "paired": (captured, 0)}.get(mode, (0, successes))
    # our store also holds each DAG run's own events: count the task attempts whose COMPLETE arrived
    ours_tasks = (
        sum(1 for t in tis if poller and t.key in poller.seen) if mode in OURS else ours.get("COMPLETE", 0)
    )
    found = (ours_tasks, official.get("COMPLETE", 0))
    result.ok = found == expected and len(result.workloads) == successes == len(tis) > 0
    result.check = (
        f"check {'OK' if result.ok else 'FAILED'}: {len(tis)} task instances, {successes} succeeded, "
        f"{len(result.workloads)} 'Workload finished' lines; task COMPLETE events expected in our store "
        f"{expected[0]}, found {found[0]}; in the official file transport expected {expected[1]}, "
        f"found {found[1]} (our store, warm-up included: {_counts(ours)}; official file, measured runs: "
        f"{_counts(official)})"
    )


def _uuid_hex(text: str) -> str:
    try:
        return uuid.UUID(text).hex
    except ValueError:
        return ""


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no events"


def main(
    executor: str,
    runs: int,
    modes: list[str],
    stores: list[str],
    base_dir: str | None = None,
    keep: bool = False,
    warmup: int = 1,
) -> bool:
    """Run every mode side by side and print the figures; True when every mode's check passed. With
    ``keep``, the deployments' directories (logs, homes, hook times) are left for reading."""
    results: list[tuple[Result, str]] = []
    with contextlib.ExitStack() as outer:
        if keep:
            base = Path(tempfile.mkdtemp(prefix=f"lineage-bench-{executor}-", dir=base_dir))
            print(f"{executor}: keeping the deployments in {base}", flush=True)
        else:
            tmp = outer.enter_context(
                tempfile.TemporaryDirectory(prefix=f"lineage-bench-{executor}-", dir=base_dir)
            )
            base = Path(tmp)
        with contextlib.ExitStack() as stack:
            templates = Templates(base, executor, stack)
            for number, (label, mode, store) in enumerate(labels(modes, stores)):
                print(f"{executor} {label}: starting the deployment", flush=True)
                began = time.monotonic()
                try:
                    result = measure(
                        label, mode, store, executor, (warmup, runs), base / f"mode-{number}", templates
                    )
                except Exception as exc:  # noqa: BLE001 - one mode failing must not lose the others
                    result = Result(label, error=f"{type(exc).__name__}: {exc}")
                print(f"{executor} {label}: done in {time.monotonic() - began:.0f} s", flush=True)
                results.append((result, mode))
    report.report(executor, runs, warmup, results)
    return all(r.ok for r, _ in results)

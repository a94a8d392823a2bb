"""Capture overhead: a DAG of 20 trivial tasks run with lineage disabled and enabled.

    python -m bench.capture --runs 7                       # dag.test(), ours off and on
    python -m bench.capture --executor local --runs 1      # real task processes (bench/modes.py):
    python -m bench.capture --executor celery --runs 1     #   off, ours, official fork and thread
    python -m bench.capture --executor local --store sqlite,postgres --modes off,ours
    python -m bench.capture --fingerprints 1MB,100MB,1GB   # fingerprint cost (bench/fingerprints.py)

With ``--executor local`` or ``celery`` see ``bench/modes.py``. What follows is the dag-test mode.

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
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import fingerprints, machine, modes

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
    parts = _time_components()
    times, per_task = [], []
    components: dict[str, list[float]] = {name: [] for name in parts}
    for number in range(runs + 1):
        hooks.clear()
        for spent in parts.values():
            spent.clear()
        began = time.perf_counter()
        dag.test(logical_date=pendulum.datetime(2026, 1, 1).add(minutes=number), use_executor=False)
        times.append(time.perf_counter() - began)
        per_task.append(sum(hooks) / TASKS)
        for name, spent in parts.items():
            components[name].append(sum(spent) / TASKS)
    found = {"runs": times[1:], "hooks": per_task[1:], **{k: v[1:] for k, v in components.items()}}
    print("TIMES " + json.dumps(found))


# What the listener's time goes to, per task (START + COMPLETE): (label, module, object, attribute).
COMPONENTS = (
    ("outbox write (file fsync, rename, dir fsync)", "airflow_lineage_provider.emit.outbox", "Outbox", "put"),
    ("of which the dir fsync", "airflow_lineage_provider.emit.outbox", None, "_fsync_dir"),
    ("store transaction", "airflow_lineage_provider.emit.direct", "DirectEmitter", "deliver_validated"),
    ("store transaction", "airflow_lineage_provider.emit.direct", "DirectEmitter", "deliver"),
    ("outbox removal (unlink)", "airflow_lineage_provider.emit.outbox", "Outbox", "remove"),
)


def _time_components() -> dict[str, list[float]]:
    """Seconds spent in each of :data:`COMPONENTS` (the functions are wrapped with a timer)."""
    import importlib

    found: dict[str, list[float]] = {}
    for label, module_name, owner_name, attribute in COMPONENTS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # the capture path was rewritten: that part is gone
        owner = getattr(module, owner_name, None) if owner_name else module
        if label in found or owner is None or not hasattr(owner, attribute):
            continue  # the first of two names that exists (an older package has only `deliver`)
        spent = found[label] = []
        setattr(owner, attribute, _timed(getattr(owner, attribute), spent))
    return found


def _timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - began)

    return timed


def _time_listener_hooks() -> list[float]:
    """Seconds spent in each task hook of our listener (start and end of each task), timed where
    Airflow calls it (``bench/hooktimes.py``: independent of the listener's method names)."""
    from airflow.listeners.listener import get_listener_manager
    from airflow.sdk.listener import get_listener_manager as task_manager

    from bench import hooktimes

    spent: list[float] = []

    def record(provider: str, hook: str, arguments: dict[str, Any], seconds: float, cpu: float) -> None:
        if provider == "ours":
            spent.append(seconds)

    for manager in (task_manager(), get_listener_manager()):  # dag.test() calls the task SDK's
        hooktimes.wrap(manager, hooktimes.TASK_HOOKS, record)
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


def _compile_package() -> None:
    """Write our package's bytecode, as pip does when it installs a wheel (Airflow's own is compiled in
    site-packages). From an editable install under PYTHONDONTWRITEBYTECODE, every task process would
    otherwise compile our modules from source, a cost no installed provider has."""
    import compileall

    package = Path(__file__).resolve().parent.parent / "airflow_lineage_provider"
    compileall.compile_dir(str(package), quiet=1)
    print(f"bytecode: {package} compiled, as a wheel install compiles it", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured DAG runs per mode (after a warm-up)")
    parser.add_argument(
        "--executor",
        choices=("dag-test", "local", "celery"),
        default="dag-test",
        help="dag-test: dag.test() in one process (default); local: a real scheduler with the "
        "LocalExecutor and a task process per task; celery: the CeleryExecutor, Redis and PostgreSQL "
        "(both slower: --runs 1 is a few minutes per mode)",
    )
    parser.add_argument(
        "--modes",
        default=",".join(modes.MODES),
        help="local/celery: the modes to run, side by side, in this order (default: all four)",
    )
    parser.add_argument(
        "--store",
        default="sqlite",
        help="local/celery: our store for the ours mode, sqlite (embedded, default) or postgres (a fresh "
        "database on $BENCH_POSTGRES_URL's server, dropped afterwards); sqlite,postgres runs ours with both",
    )
    parser.add_argument(
        "--home",
        help="where the temporary AIRFLOW_HOME (store, outbox) goes (default: the system's temporary "
        "directory); on a tmpfs such as /dev/shm fsync costs nothing, which leaves the CPU part",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="local/celery: DAG runs per mode before the measured ones, not measured (default 1)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="local/celery: keep the deployments' logs and homes (path printed)",
    )
    parser.add_argument(
        "--fingerprints",
        metavar="SIZES",
        help="instead: the fingerprint cost per task for files of these sizes, e.g. 1MB,100MB,1GB "
        "(bench/fingerprints.py)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.runs)
        return
    print(machine.describe(), flush=True)
    if args.fingerprints is not None:
        try:
            sizes = fingerprints.parse_sizes(args.fingerprints)
        except ValueError as exc:
            parser.error(str(exc))
        fingerprints.main(sizes, args.runs, args.home)
        print(machine.describe(), flush=True)
        return
    _compile_package()
    if args.executor != "dag-test":
        # a SIGTERM unwinds like Ctrl-C: every deployment's processes are stopped on the way out
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        chosen = [m.strip() for m in args.modes.split(",") if m.strip()]
        stores = [s.strip() for s in args.store.split(",") if s.strip()]
        unknown = [m for m in chosen if m not in modes.MODES] + [s for s in stores if s not in modes.STORES]
        if unknown or not chosen or not stores:
            parser.error(f"unknown mode or store: {', '.join(unknown) or '(none given)'}")
        ok = modes.main(args.executor, args.runs, chosen, stores, args.home, args.keep, args.warmup)
        print(machine.describe(), flush=True)  # the load once more: the run takes minutes
        if not ok:
            raise SystemExit("a mode's check failed (see its 'check' line)")
        return
    with tempfile.TemporaryDirectory(prefix="lineage-bench-home-", dir=args.home) as home:
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
        parts = {label: statistics.median(found[label]) * 1000 for label, *_ in COMPONENTS if label in found}
        rest = statistics.median(hooks) - sum(v for k, v in parts.items() if not k.startswith("of which"))
        shown = ", ".join(f"{label} {ms:.2f} ms" for label, ms in parts.items())
        print(f"capture listener time per task by part (p50): {shown}, everything else {rest:.2f} ms")


if __name__ == "__main__":
    main()

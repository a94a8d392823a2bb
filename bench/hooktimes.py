"""Timing the lineage listeners' hooks where they run, without touching the providers' code.

Airflow calls each listener through pluggy; every registered hook implementation holds the function
pluggy calls (``HookImpl.function``). :func:`wrap` replaces that function, for the listeners of the
providers being measured, with one that times it and hands the seconds to a recorder. It depends only
on pluggy's stable hook names (``on_task_instance_running``, ``on_dag_run_success``, ...), never on
a provider's method names, and it imports nothing heavy (a task process loads it).

The recorder appends one line per hook call to a file: ``<provider> <hook> <key> <seconds> <cpu>``
(``cpu``: the CPU time the whole process used during the call, children it waited for included, so
work a provider hands to a thread or a forked child counts), where
``key`` is ``<run_id>/<task_id>/<try_number>`` for task hooks and ``<dag_id>/<run_id>`` for DAG-run
hooks (no spaces in either: Airflow's ids have none). The timing plugin also writes one
``process task_cpu <key> <seconds>`` line per task process, in every mode: the CPU time the process
used from its fork to its last listener call (``time.process_time``, children it waited for included), a
figure that a shared machine's load hardly moves, unlike wall time.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The listener modules of the providers measured, by the label lines carry.
PROVIDERS = {"ours": "airflow_lineage_provider.", "official": "airflow.providers.openlineage."}
TASK_HOOKS = {
    "on_task_instance_running": "START",
    "on_task_instance_success": "COMPLETE",
    "on_task_instance_failed": "FAIL",
    "on_task_instance_skipped": "ABORT",
}
DAG_HOOKS = {"on_dag_run_running": "START", "on_dag_run_success": "COMPLETE", "on_dag_run_failed": "FAIL"}
TASK_CPU = "task_cpu"
TASK_CPU_UNCAPTURED = "task_cpu_uncaptured"  # a task process the paired mode ran without our listener
WRAPPED = "_bench_timed"
# (provider, hook, arguments, seconds, CPU seconds)
Recorder = Callable[[str, str, dict[str, Any], float, float], None]


def provider_of(plugin: Any) -> str | None:
    """``ours`` / ``official`` for a listener object (instance or module) of a measured provider."""
    module = plugin.__name__ if isinstance(plugin, type(os)) else type(plugin).__module__
    for label, prefix in PROVIDERS.items():
        if f"{module}.".startswith(prefix):
            return label
    return None


def wrap(manager: Any, hooks: Iterable[str], record: Recorder) -> int:
    """Time every implementation of ``hooks`` in the listener ``manager`` that belongs to a measured
    provider; each call ends with ``record(provider, hook, arguments, seconds)``. Returns how many were
    wrapped (wrapping twice is a no-op)."""
    wrapped = 0
    for hook in hooks:
        caller = getattr(manager.pm.hook, hook, None)
        if caller is None:
            continue
        for impl in caller.get_hookimpls():
            provider = provider_of(impl.plugin)
            if provider is None or getattr(impl.function, WRAPPED, False):
                continue
            impl.function = _timed(impl.function, tuple(impl.argnames), provider, hook, record)
            wrapped += 1
    return wrapped


def _timed(
    function: Callable[..., Any],
    names: tuple[str, ...],
    provider: str,
    hook: str,
    record: Recorder,
) -> Callable[..., Any]:
    def timed(*args: Any) -> Any:  # pluggy passes the implementation's own argnames, in order
        began, cpu = time.perf_counter(), cpu_seconds()
        try:
            return function(*args)
        finally:
            seconds = time.perf_counter() - began
            record(provider, hook, dict(zip(names, args, strict=False)), seconds, cpu_seconds() - cpu)

    setattr(timed, WRAPPED, True)
    return timed


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of the children it waited for (precise clocks:
    ``os.times`` counts in 10 ms ticks)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def key_of(arguments: dict[str, Any]) -> str:
    """The task attempt or DAG run a hook call was about (see the module docstring)."""
    names: tuple[str, ...] = ("run_id", "task_id", "try_number")
    target = arguments.get("task_instance")
    if target is None:
        names, target = ("dag_id", "run_id"), arguments.get("dag_run")
    return "/".join(str(getattr(target, name, "?")).replace(" ", "_") for name in names)


def appender(path: str) -> Recorder:
    """A recorder that appends one line per call to ``path`` (one ``write`` each: lines from several
    processes do not interleave)."""

    def record(provider: str, hook: str, arguments: dict[str, Any], seconds: float, cpu: float = 0.0) -> None:
        line = f"{provider} {hook} {key_of(arguments)} {seconds:.6f} {cpu:.6f}\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    return record


@dataclass
class HookTimes:
    """Seconds per hook call read back from a file :func:`appender` wrote, per provider."""

    per_task: dict[str, list[float]] = field(default_factory=dict)  # start + end of each attempt
    by_event: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # provider -> START/...
    task_cpu: list[float] = field(default_factory=list)  # CPU seconds of each task process
    task_cpu_uncaptured: list[float] = field(default_factory=list)  # paired mode: those run without ours
    uncaptured: set[str] = field(default_factory=set)  # their keys
    per_task_cpu: dict[str, list[float]] = field(default_factory=dict)  # CPU of start + end of each attempt


def read(path: Path, runs: set[str] | None = None) -> HookTimes:
    """Parse a hook-times file (absent: nothing measured); with ``runs``, only the task hooks of those
    DAG runs (warm-up runs left out)."""
    times = HookTimes()
    totals: dict[tuple[str, str], float] = {}
    cpu_totals: dict[tuple[str, str], float] = {}
    if not path.exists():
        return times
    for line in path.read_text().splitlines():
        parts = line.split(" ")
        if len(parts) not in (4, 5):
            continue
        provider, hook, key, seconds = parts[0], parts[1], parts[2], float(parts[3])
        cpu = float(parts[4]) if len(parts) == 5 else 0.0
        if (
            runs is not None
            and hook in (*TASK_HOOKS, TASK_CPU, TASK_CPU_UNCAPTURED)
            and key.rsplit("/", 2)[0] not in runs
        ):
            continue
        if hook == TASK_CPU:
            times.task_cpu.append(seconds)
            continue
        if hook == TASK_CPU_UNCAPTURED:
            times.task_cpu_uncaptured.append(seconds)
            times.uncaptured.add(key)
            continue
        event = TASK_HOOKS.get(hook) or DAG_HOOKS.get(hook, hook)
        times.by_event.setdefault(provider, {}).setdefault(event, []).append(seconds)
        if hook in TASK_HOOKS:
            totals[(provider, key)] = totals.get((provider, key), 0.0) + seconds
            cpu_totals[(provider, key)] = cpu_totals.get((provider, key), 0.0) + cpu
    for (provider, _), total in totals.items():
        times.per_task.setdefault(provider, []).append(total)
    for (provider, _), total in cpu_totals.items():
        times.per_task_cpu.setdefault(provider, []).append(total)
    return times

"""bench.capture's Airflow plugin (``[core] plugins_folder`` = this folder): times the lineage
listeners' hooks in the processes that call them.

Its listener implements only ``on_starting``, which Airflow calls once every listener is registered:
in the scheduler (a job starting) and in each task process (the task runner). There it wraps the
measured providers' hook implementations (see ``bench/hooktimes.py``):

* task processes: the task hooks, into ``$BENCH_CAPTURE_HOOK_TIMES``;
* the scheduler: the DAG-run hooks, into ``$BENCH_CAPTURE_DAG_HOOK_TIMES``.

In each task process it also records the CPU time the process used, from its fork to Airflow's last
listener call (``before_stopping``), into ``$BENCH_CAPTURE_HOOK_TIMES``: in every mode, "off" included,
so the modes compare on CPU as well as on wall time.

With ``$BENCH_CAPTURE_PAIRED`` set (``bench.capture``'s ``paired`` mode), about half of the task
processes, chosen at random by process id, unregister our listener before its first hook: they run
as with lineage off, in the same deployment at the same time as the others, and record their CPU as
``task_cpu_uncaptured``. The two groups compare under the same load, which modes run minutes apart on
a shared machine do not.

With ``$BENCH_PROFILE_DIR`` set to a directory, each task process is also profiled (cProfile)
from Airflow's ``on_starting`` to its ``before_stopping``, into ``<directory>/<pid>.prof``: what the
process spends its time on, to compare between modes (``python -m pstats``). cProfile slows what it
times, so a profiled run's figures are not the benchmark's.
"""

from __future__ import annotations

import os
import random
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

from bench import hooktimes


class _Timer:
    task_instance: Any = None
    profile: Any = None
    uncaptured = False  # this task process runs without our listener (paired mode)
    threads: list[Any] = []  # noqa: RUF012 - one profile per thread the task process starts

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        _Timer.task_instance = task_instance

    @hookimpl
    def before_stopping(self, component: Any) -> None:
        path = os.environ.get("BENCH_CAPTURE_HOOK_TIMES")
        if type(component).__name__ == "TaskRunnerMarker" and path and _Timer.task_instance is not None:
            spent = hooktimes.cpu_seconds()
            record = hooktimes.appender(path)
            kind = hooktimes.TASK_CPU_UNCAPTURED if _Timer.uncaptured else hooktimes.TASK_CPU
            record("process", kind, {"task_instance": _Timer.task_instance}, spent, 0.0)
        if type(component).__name__ == "TaskRunnerMarker" and _Timer.profile is not None:
            folder = os.environ["BENCH_PROFILE_DIR"]
            for number, profile in enumerate(_Timer.threads, 1):  # before the main thread's (see _thread)
                profile.dump_stats(os.path.join(folder, f"{os.getpid()}-thread{number}.prof"))
            _Timer.profile.disable()
            _Timer.profile.dump_stats(os.path.join(folder, f"{os.getpid()}.prof"))

    @hookimpl
    def on_starting(self, component: Any) -> None:
        if type(component).__name__ == "TaskRunnerMarker":
            from airflow.sdk.listener import get_listener_manager as task_manager

            if os.environ.get("BENCH_CAPTURE_PAIRED") and random.Random(os.getpid()).random() < 0.5:
                _Timer.uncaptured = True
                manager = task_manager()
                for plugin in list(manager.pm.get_plugins()):
                    if hooktimes.provider_of(plugin) == "ours":
                        manager.pm.unregister(plugin)
            path = os.environ.get("BENCH_CAPTURE_HOOK_TIMES")
            if path:
                hooktimes.wrap(task_manager(), hooktimes.TASK_HOOKS, hooktimes.appender(path))
            if os.environ.get("BENCH_PROFILE_DIR"):
                import cProfile
                import threading

                threading.setprofile(_thread)
                _Timer.profile = cProfile.Profile()
                _Timer.profile.enable()
            return
        path = os.environ.get("BENCH_CAPTURE_DAG_HOOK_TIMES")
        if path:
            from airflow.listeners.listener import get_listener_manager

            hooktimes.wrap(get_listener_manager(), hooktimes.DAG_HOOKS, hooktimes.appender(path))


def _thread(frame: Any, event: str, arg: Any) -> None:
    """The profile function of each new thread: gives the thread a profiler of its own (cProfile
    profiles one thread; dumping a thread's stats from another stops the dumping thread's profiler,
    so the threads' are dumped first)."""
    import cProfile

    profile = cProfile.Profile()
    _Timer.threads.append(profile)
    profile.enable()


class BenchCaptureTimerPlugin(AirflowPlugin):
    name = "bench_capture_timer"
    listeners = [_Timer()]

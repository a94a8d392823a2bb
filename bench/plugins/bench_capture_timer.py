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
"""

from __future__ import annotations

import os
import resource
import time
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

from bench import hooktimes


class _Timer:
    task_instance: Any = None

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        _Timer.task_instance = task_instance

    @hookimpl
    def before_stopping(self, component: Any) -> None:
        path = os.environ.get("BENCH_CAPTURE_HOOK_TIMES")
        if type(component).__name__ == "TaskRunnerMarker" and path and _Timer.task_instance is not None:
            # precise clocks (os.times counts in 10 ms ticks): this process, and the children it waited for
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            spent = time.process_time() + children.ru_utime + children.ru_stime
            record = hooktimes.appender(path)
            record("process", hooktimes.TASK_CPU, {"task_instance": _Timer.task_instance}, spent)

    @hookimpl
    def on_starting(self, component: Any) -> None:
        if type(component).__name__ == "TaskRunnerMarker":
            from airflow.sdk.listener import get_listener_manager as task_manager

            path = os.environ.get("BENCH_CAPTURE_HOOK_TIMES")
            if path:
                hooktimes.wrap(task_manager(), hooktimes.TASK_HOOKS, hooktimes.appender(path))
            return
        path = os.environ.get("BENCH_CAPTURE_DAG_HOOK_TIMES")
        if path:
            from airflow.listeners.listener import get_listener_manager

            hooktimes.wrap(get_listener_manager(), hooktimes.DAG_HOOKS, hooktimes.appender(path))


class BenchCaptureTimerPlugin(AirflowPlugin):
    name = "bench_capture_timer"
    listeners = [_Timer()]

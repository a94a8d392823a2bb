"""Airflow plugin copied into the plugins folder of the reconciliation integration test.

Its listener runs before ours (``tryfirst``) and SIGKILLs the task process at the point where
Airflow has changed the task's state but our hook has not yet written the event.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin


def _kill_if(task_instance: Any, task_id: str) -> None:
    if task_instance.task_id == task_id:
        os.kill(os.getpid(), signal.SIGKILL)


@hookimpl(tryfirst=True)
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    _kill_if(task_instance, "killed_in_running")


@hookimpl(tryfirst=True)
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    _kill_if(task_instance, "killed_in_success")


class KillPlugin(AirflowPlugin):
    name = "lineage_test_kill"
    listeners = [sys.modules[__name__]]

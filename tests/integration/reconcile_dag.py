"""DAG file written into a temporary dags folder by the reconciliation integration test.

Three independent tasks: the test's kill plugin (reconcile_plugin.py) SIGKILLs the task process of
``killed_in_success`` in its success listener and of ``killed_in_running`` in its running listener,
each before ours runs; ``survives`` runs untouched.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False, default_args={"retries": 0})
def reconcile_kill() -> None:
    @task
    def killed_in_success() -> None:
        pass

    @task
    def killed_in_running() -> None:
        pass

    @task
    def survives() -> None:
        pass

    killed_in_success()
    killed_in_running()
    survives()


reconcile_kill()

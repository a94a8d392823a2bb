"""Test DAG (airflow): a single task that succeeds, for capture-never-fails-a-task tests."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def capture_one() -> None:
    @task
    def work() -> int:
        return 42

    work()


capture_one_dag = capture_one()

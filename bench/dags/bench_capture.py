"""20 trivial tasks in a chain, each writing one file Asset: the DAG of bench.capture."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, Asset, task

if os.environ.get("BENCH_CAPTURE_HOOK_TIMES"):  # bench.capture --executor local: time the listener
    from bench.capture import record_hooks_in_task_processes

    record_hooks_in_task_processes()

with DAG("bench_capture", schedule=None, start_date=pendulum.datetime(2026, 1, 1), catchup=False) as dag:
    previous = None
    for number in range(20):

        @task(
            task_id=f"step_{number:02d}", outlets=[Asset(f"file:///tmp/bench-capture/out_{number:02d}.csv")]
        )
        def step() -> None:
            """Does nothing: what is measured is what lineage capture adds around it."""

        current = step()
        if previous is not None:
            previous >> current
        previous = current

"""20 trivial tasks in a chain, each writing one file Asset: the DAG of bench.capture."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Asset, task

# Nothing here times anything: bench/plugins times the listeners where Airflow calls them.

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

"""Test DAG (airflow): owners from default_args and from a task, on a chain of assets.

extract (team-a) writes raw; transform (owner "alice, bob") reads raw and writes clean; report
(team-a) reads clean and writes summary.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Asset, dag, task

HOME = os.environ.get("AIRFLOW_HOME", "/tmp")
RAW = Asset(f"file://{HOME}/owners/raw.csv")
CLEAN = Asset(f"file://{HOME}/owners/clean.csv")
SUMMARY = Asset(f"file://{HOME}/owners/summary.csv")


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False, default_args={"owner": "team-a"})
def capture_owners() -> None:
    @task(outlets=[RAW])
    def extract() -> None:
        return None

    @task(owner="alice, bob", inlets=[RAW], outlets=[CLEAN])
    def transform() -> None:
        return None

    @task(inlets=[CLEAN], outlets=[SUMMARY])
    def report() -> None:
        return None

    extract() >> transform() >> report()


capture_owners_dag = capture_owners()

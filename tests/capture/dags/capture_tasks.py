"""Test DAG (airflow): one task per capture case that needs no database."""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.sdk import Asset, AssetAlias, BaseOperator, dag, task
from airflow.sdk.exceptions import AirflowSkipException

HOME = os.environ.get("AIRFLOW_HOME", "/tmp")
RAW = Asset(f"file://{HOME}/capture/raw.csv")
CLEAN = Asset(f"file://{HOME}/capture/clean.csv")
RUNTIME = Asset(f"file://{HOME}/capture/runtime.csv")
ALIAS = AssetAlias("capture-runtime-alias")


class OpenLineageOperator(BaseOperator):
    """Declares an input on start; its completion method raises."""

    def execute(self, context: Any) -> None:
        return None

    def get_openlineage_facets_on_start(self) -> Any:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import Dataset

        return OperatorLineage(inputs=[Dataset(namespace="s3://bucket", name="declared/input.parquet")])

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        raise RuntimeError("lineage method exploded")


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def capture_tasks() -> None:
    @task(inlets=[RAW], outlets=[CLEAN])
    def transform() -> None:
        return None

    @task
    def skipper() -> None:
        raise AirflowSkipException("nothing to do")

    @task
    def square(x: int) -> int:
        return x * x

    @task(retries=1, retry_delay=pendulum.duration(seconds=0))
    def flaky(**context: Any) -> None:
        if context["ti"].try_number == 1:
            raise ValueError("first try fails")

    @task
    def broken() -> None:
        raise ValueError("boom from the task")

    @task(outlets=[ALIAS])
    def alias_writer(**context: Any) -> None:
        context["outlet_events"][ALIAS].add(RUNTIME)

    transform()
    skipper()
    square.expand(x=[1, 2, 3])
    flaky()
    broken()
    alias_writer()
    OpenLineageOperator(task_id="ol_method_raises")


capture_tasks_dag = capture_tasks()

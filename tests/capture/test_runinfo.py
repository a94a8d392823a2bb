"""Snapshots of DAG runs: nominal time from the data interval, else the logical date, else run_after."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

from airflow_lineage_provider.capture.runinfo import dag_run_info, operator_path, task_run_info
from airflow_lineage_provider.core import runids
from tests.capture.conftest import load_dag_module

T1 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T2 = datetime(2026, 1, 2, tzinfo=timezone.utc)
T3 = datetime(2026, 1, 3, tzinfo=timezone.utc)


def dag_run(**fields: object) -> SimpleNamespace:
    base = {"dag_id": "d", "run_id": "r", "data_interval_start": None, "data_interval_end": None}
    return SimpleNamespace(**{**base, "logical_date": None, "run_after": T3, **fields})


def test_a_scheduled_run_is_nominally_its_data_interval() -> None:
    info = dag_run_info(dag_run(data_interval_start=T1, data_interval_end=T2, logical_date=T1))

    assert (info.nominal_start, info.nominal_end) == (T1, T2)
    assert info.run_uuid == runids.dag_run_id("d", "r")
    assert (info.namespace, info.job_name) == ("airflow", "d")


def test_a_run_without_data_interval_or_logical_date_uses_run_after() -> None:
    assert (dag_run_info(dag_run()).nominal_start, dag_run_info(dag_run()).nominal_end) == (T3, None)
    assert dag_run_info(dag_run(logical_date=T1)).nominal_start == T1


def test_operator_path_of_a_real_and_of_a_serialized_operator() -> None:
    from airflow.providers.standard.operators.empty import EmptyOperator

    assert (
        operator_path(EmptyOperator(task_id="e"))
        == "airflow.providers.standard.operators.empty.EmptyOperator"
    )
    stand_in = SimpleNamespace(_task_module="pkg.ops", task_type="LoadOperator")
    assert operator_path(stand_in) == "pkg.ops.LoadOperator"
    assert operator_path(None) is None


def scheduler_dag(name: str, attr: str) -> Any:
    """A test DAG as the scheduler holds it (serialized and back)."""
    from airflow.serialization import serialized_objects

    serialization = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    return serialization.from_dict(serialization.to_dict(getattr(load_dag_module(name), attr)))


def test_the_scheduler_reads_owners_from_its_serialized_dag_and_tasks() -> None:
    dag = scheduler_dag("capture_owners", "capture_owners_dag")
    run = dag_run(dag=dag)
    orm_task_instance = SimpleNamespace(
        dag_id="d", task_id="transform", try_number=1, map_index=-1, hostname=None, dag_run=run,
        task=dag.get_task("transform"),
    )  # fmt: skip

    assert dag_run_info(run, with_owners=True).owners == ("alice", "bob", "team-a")
    assert task_run_info(orm_task_instance).owners == ("alice", "bob")


def test_owners_are_read_only_when_asked_and_none_without_a_dag() -> None:
    dag = scheduler_dag("capture_owners", "capture_owners_dag")

    assert dag_run_info(dag_run(dag=dag)).owners == ()  # a task event's DAG run: not needed
    assert dag_run_info(dag_run(), with_owners=True).owners == ()  # an api-server's DagRun may have none

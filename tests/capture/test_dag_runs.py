"""dag.test() of tests/capture/dags/capture_tasks.py: the events each kind of task attempt gets."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_lineage_provider.core import runids
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.capture.conftest import Events, names, run_dag
from tests.spec import validate_event

DAG_ID = "capture_tasks"


@pytest.fixture(scope="module")
def run(airflow_db: Any) -> tuple[Events, Any]:
    """One dag.test() of capture_tasks for the whole module (each run costs seconds)."""
    emitter = AccumulatingEmitter()
    dag_run = run_dag("capture_tasks", "capture_tasks_dag", emitter)
    return Events(emitter.dicts()), dag_run


@pytest.fixture(scope="module")
def events(run: tuple[Events, Any]) -> Events:
    return run[0]


def task_state(run: tuple[Events, Any], task_id: str) -> str:
    (ti,) = [ti for ti in run[1].get_task_instances() if ti.task_id == task_id]
    return str(ti.state)


def task_facet(event: dict[str, Any]) -> dict[str, Any]:
    return dict(event["run"]["facets"]["airflowLineage_task"])


def test_every_event_matches_the_openlineage_schema(events: Events) -> None:
    assert events.all
    for event in events.all:
        validate_event(event)


def test_a_successful_task_gets_start_then_complete_of_one_run(events: Events) -> None:
    start = events.one(f"{DAG_ID}.transform", "START")
    complete = events.one(f"{DAG_ID}.transform", "COMPLETE")

    assert start["run"]["runId"] == complete["run"]["runId"]
    assert start["eventTime"] <= complete["eventTime"]
    assert complete["job"]["namespace"] == "airflow"
    assert complete["job"]["facets"]["jobType"]["jobType"] == "TASK"
    assert complete["job"]["facets"]["jobType"]["integration"] == "AIRFLOW"


def test_task_run_id_is_deterministic_and_the_dag_run_is_parent_and_root(
    run: tuple[Events, Any], events: Events
) -> None:
    dag_run = run[1]
    complete = events.one(f"{DAG_ID}.transform", "COMPLETE")
    parent = complete["run"]["facets"]["parent"]
    dag_run_uuid = runids.dag_run_id(DAG_ID, dag_run.run_id)

    assert complete["run"]["runId"] == runids.task_run_id(DAG_ID, "transform", dag_run.run_id, 1, -1)
    assert parent["run"]["runId"] == dag_run_uuid
    assert parent["job"] == {"namespace": "airflow", "name": DAG_ID, "facets": {}}
    assert parent["root"]["run"]["runId"] == dag_run_uuid
    assert parent["root"]["job"]["name"] == DAG_ID


def test_task_facet_names_the_attempt_and_engine_facets_are_present(
    run: tuple[Events, Any], events: Events
) -> None:
    complete = events.one(f"{DAG_ID}.transform", "COMPLETE")
    facets = complete["run"]["facets"]

    assert task_facet(complete) | {"_producer": "", "_schemaURL": ""} == {
        "_producer": "",
        "_schemaURL": "",
        "dag_id": DAG_ID,
        "task_id": "transform",
        "run_id": run[1].run_id,
        "try_number": 1,
        "map_index": -1,
        "operator": "airflow.providers.standard.decorators.python._PythonDecoratedOperator",
        "hostname": task_facet(complete)["hostname"],
    }
    assert facets["processing_engine"]["name"] == "Airflow"
    assert facets["processing_engine"]["openlineageAdapterVersion"] == "0.1.0"
    assert facets["nominalTime"]["nominalStartTime"] == run[1].data_interval_start.isoformat()


def test_inlets_and_outlets_become_inputs_and_outputs(airflow_home: Any, events: Events) -> None:
    complete = events.one(f"{DAG_ID}.transform", "COMPLETE")

    assert names(complete["inputs"]) == {("file", f"{airflow_home}/capture/raw.csv")}
    assert names(complete["outputs"]) == {("file", f"{airflow_home}/capture/clean.csv")}


def test_a_failing_task_fails_by_itself_and_gets_fail_with_its_traceback(
    run: tuple[Events, Any], events: Events
) -> None:
    fail = events.one(f"{DAG_ID}.broken", "FAIL")
    error = fail["run"]["facets"]["errorMessage"]

    assert task_state(run, "broken") == "failed"
    assert error["message"] == "ValueError: boom from the task"
    assert error["programmingLanguage"] == "python"
    assert 'raise ValueError("boom from the task")' in error["stackTrace"]
    assert "capture_tasks.py" in error["stackTrace"]
    assert not events.of(f"{DAG_ID}.broken", "COMPLETE")


def test_a_task_that_skips_itself_gets_abort(run: tuple[Events, Any], events: Events) -> None:
    abort = events.one(f"{DAG_ID}.skipper", "ABORT")

    assert task_state(run, "skipper") == "skipped"
    assert abort["run"]["runId"] == events.one(f"{DAG_ID}.skipper", "START")["run"]["runId"]


def test_a_mapped_task_gets_one_run_per_map_index(run: tuple[Events, Any], events: Events) -> None:
    completes = events.of(f"{DAG_ID}.square", "COMPLETE")
    by_index = {task_facet(e)["map_index"]: e["run"]["runId"] for e in completes}

    assert sorted(by_index) == [0, 1, 2]
    assert by_index == {i: runids.task_run_id(DAG_ID, "square", run[1].run_id, 1, i) for i in range(3)}
    assert {e["run"]["runId"] for e in events.of(f"{DAG_ID}.square", "START")} == set(by_index.values())


def test_a_retried_task_gets_one_run_per_try(run: tuple[Events, Any], events: Events) -> None:
    job = f"{DAG_ID}.flaky"
    first, second = (runids.task_run_id(DAG_ID, "flaky", run[1].run_id, n, -1) for n in (1, 2))

    assert [(e["eventType"], e["run"]["runId"]) for e in events.of(job)] == [
        ("START", first),
        ("FAIL", first),
        ("START", second),
        ("COMPLETE", second),
    ]
    assert (
        events.one(job, "FAIL")["run"]["facets"]["errorMessage"]["message"] == "ValueError: first try fails"
    )
    assert [task_facet(e)["try_number"] for e in events.of(job)] == [1, 1, 2, 2]


def test_an_asset_added_through_an_alias_at_run_time_is_an_output(airflow_home: Any, events: Events) -> None:
    complete = events.one(f"{DAG_ID}.alias_writer", "COMPLETE")

    assert names(complete["outputs"]) == {("file", f"{airflow_home}/capture/runtime.csv")}
    assert names(events.one(f"{DAG_ID}.alias_writer", "START")["outputs"]) == set()


def test_a_failing_openlineage_method_still_gives_both_events_with_an_extraction_error(
    run: tuple[Events, Any], events: Events
) -> None:
    job = f"{DAG_ID}.ol_method_raises"
    start, complete = events.one(job, "START"), events.one(job, "COMPLETE")
    error = complete["run"]["facets"]["extractionError"]

    assert task_state(run, "ol_method_raises") == "success"
    assert names(start["inputs"]) == {("s3://bucket", "declared/input.parquet")}
    assert "extractionError" not in start["run"]["facets"]
    assert error["failedTasks"] == 1
    assert error["errors"][0]["errorMessage"] == "RuntimeError: lineage method exploded"
    assert error["errors"][0]["task"] == "OpenLineageOperator.get_openlineage_facets_on_complete"
    assert "lineage method exploded" in error["errors"][0]["stackTrace"]


def test_dag_test_gives_the_dag_run_its_terminal_event_only(run: tuple[Events, Any], events: Events) -> None:
    # dag.test() never calls on_dag_run_running (only the scheduler does), so no START is honest.
    fail = events.one(DAG_ID, "FAIL")

    assert not events.of(DAG_ID, "START")
    assert fail["run"]["runId"] == runids.dag_run_id(DAG_ID, run[1].run_id)
    assert fail["job"]["facets"]["jobType"]["jobType"] == "DAG"
    assert fail["run"]["facets"]["errorMessage"]["message"] == "task_failure"
    assert events.all[-1] is fail


def test_a_scheduler_or_api_server_task_instance_gets_an_event_without_extraction(
    run: tuple[Events, Any],
) -> None:
    """The scheduler (executor-reported failure) and the api-server (manual change) pass ORM objects."""
    from airflow.utils.session import create_session

    from airflow_lineage_provider.plugin import get_listener

    emitter = AccumulatingEmitter()
    previous = get_listener().use_emitter(emitter)
    try:
        with create_session() as session:
            (ti,) = [ti for ti in run[1].get_task_instances(session=session) if ti.task_id == "transform"]
            get_listener().on_task_instance_failed(
                previous_state=None, task_instance=ti, error="Executor reported the task as failed"
            )
    finally:
        get_listener().use_emitter(previous)
    (event,) = emitter.dicts()

    validate_event(event)
    assert event["eventType"] == "FAIL"
    assert event["run"]["runId"] == runids.task_run_id(DAG_ID, "transform", run[1].run_id, 1, -1)
    assert event["run"]["facets"]["errorMessage"]["message"] == "Executor reported the task as failed"
    assert event["inputs"] == [] and event["outputs"] == []

"""The reconciler against Airflow's real metadata DB (one dag.test() of capture_tasks) and a real
store on SQLite and PostgreSQL: events a killed process never wrote are dropped from what capture
produced, and a pass must put back exactly what Airflow's record supports."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_lineage_provider.core import runids
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from airflow_lineage_provider.reconcile.events import RECONCILED
from airflow_lineage_provider.reconcile.service import Reconciler
from tests.capture.conftest import run_dag
from tests.spec import validate_event

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:openlineage")

DAG_ID = "capture_tasks"
TERMINAL = {"COMPLETE", "FAIL", "ABORT"}


@pytest.fixture(scope="module")
def run(airflow_db: Any) -> tuple[list[dict[str, Any]], Any]:
    emitter = AccumulatingEmitter()
    dag_run = run_dag("capture_tasks", "capture_tasks_dag", emitter)
    return emitter.dicts(), dag_run


def ti_of(dag_run: Any, task_id: str) -> Any:
    from airflow.utils.session import create_session

    with create_session() as session:
        (ti,) = [ti for ti in dag_run.get_task_instances(session=session) if ti.task_id == task_id]
        session.expunge(ti)
        return ti


def run_uuid(dag_run: Any, task_id: str, try_number: int) -> str:
    return runids.task_run_id(DAG_ID, task_id, dag_run.run_id, try_number, -1)


def kinds(store: Any, run_id: str) -> list[tuple[str, bool]]:
    events = sorted(store.events(run_id=run_id), key=lambda e: (e["eventTime"], e["eventType"]))
    return [(e["eventType"], RECONCILED in e["run"]["facets"]) for e in events]


def reconciler(store: Any, grace: float = 0) -> Reconciler:
    return Reconciler(
        lambda: store, interval=0, grace=grace, namespace="airflow", lookback=timedelta(hours=1)
    )


def test_a_pass_records_what_killed_processes_never_wrote_and_only_that(store, run) -> None:
    captured, dag_run = run
    transform = run_uuid(dag_run, "transform", 1)  # killed after success: no COMPLETE
    broken = run_uuid(dag_run, "broken", 1)  # killed before START: no event at all
    flaky_first = run_uuid(dag_run, "flaky", 1)  # first try killed after failing: no FAIL; try 2 ran
    dropped = {
        (transform, "COMPLETE"),
        (broken, "START"),
        (broken, "FAIL"),
        (flaky_first, "FAIL"),
    }
    kept = [e for e in captured if (e["run"]["runId"], e["eventType"]) not in dropped]
    assert len(kept) == len(captured) - len(dropped)
    store.record_many(kept)

    result = reconciler(store).reconcile()

    assert kinds(store, transform) == [("START", False), ("COMPLETE", True)]
    assert kinds(store, broken) == [("START", True), ("FAIL", True)]
    assert kinds(store, flaky_first) == [("START", False), ("FAIL", True)]
    mine = [e for e in store.events() if RECONCILED in e["run"]["facets"]]
    ours = [e for e in mine if e["run"]["facets"]["airflowLineage_task"]["run_id"] == dag_run.run_id]
    assert len(ours) == 4  # nothing for the runs capture closed (skipped, mapped, flaky try 2, ...)
    assert result.stored == len(mine)
    for event in ours:
        validate_event(event)
    complete = next(e for e in ours if e["run"]["runId"] == transform)
    assert complete["run"]["facets"][RECONCILED]["airflow_state"] == "success"
    assert complete["eventTime"] == ti_of(dag_run, "transform").end_date.isoformat()
    start = next(e for e in ours if (e["run"]["runId"], e["eventType"]) == (broken, "START"))
    assert start["eventTime"] == ti_of(dag_run, "broken").start_date.isoformat()
    assert store.describe(f"run:{transform}")["state"] == "COMPLETED"
    assert store.describe(f"run:{broken}")["state"] == "FAILED"
    # a reconciled task event names no owners; the job keeps those capture's START gave it
    assert "ownership" not in complete["job"]["facets"]
    job = store.describe(f"job:airflow:{DAG_ID}.transform")
    assert job["facets"]["ownership"]["owners"] == [{"name": "airflow"}]


def test_a_second_pass_stores_nothing_again(store, run) -> None:
    captured, dag_run = run
    transform = run_uuid(dag_run, "transform", 1)
    store.record_many([e for e in captured if (e["run"]["runId"], e["eventType"]) != (transform, "COMPLETE")])
    first = reconciler(store).reconcile()
    again = Reconciler(lambda: store, interval=0, grace=0, namespace="airflow", lookback=timedelta(hours=1))

    second = again.reconcile()

    assert first.stored >= 1
    assert second.stored == 0
    assert kinds(store, transform) == [("START", False), ("COMPLETE", True)]


def test_attempts_that_ended_within_the_grace_period_are_left_alone(store, run) -> None:
    captured, dag_run = run
    transform = run_uuid(dag_run, "transform", 1)
    store.record_many([e for e in captured if (e["run"]["runId"], e["eventType"]) != (transform, "COMPLETE")])

    result = reconciler(store, grace=3600).reconcile()

    assert result.stored == 0
    assert kinds(store, transform) == [("START", False)]


def test_an_open_run_older_than_the_watermark_is_still_closed(store, run) -> None:
    """The open-runs read finds it even when the pass no longer reads that time from Airflow."""
    captured, dag_run = run
    transform = run_uuid(dag_run, "transform", 1)
    store.record_many([e for e in captured if (e["run"]["runId"], e["eventType"]) != (transform, "COMPLETE")])
    late = reconciler(store)
    late._watermark = datetime.now(timezone.utc)  # as if every earlier end had been read already

    late.reconcile()

    assert kinds(store, transform) == [("START", False), ("COMPLETE", True)]


def test_tick_turns_a_store_failure_into_none(run) -> None:
    from airflow_lineage_provider import LineageStore

    store = LineageStore.from_url("sqlite:////nonexistent-dir/none/lineage.db")
    assert reconciler(store).tick() is None


def dag_events(captured: list[dict[str, Any]], dag_run: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The captured events less the DAG run's own terminal event, and that event."""
    dag_uuid = runids.dag_run_id(DAG_ID, dag_run.run_id)
    (terminal,) = [e for e in captured if e["run"]["runId"] == dag_uuid and e["eventType"] in TERMINAL]
    return [e for e in captured if e is not terminal], terminal


def test_a_dag_run_whose_terminal_event_was_lost_is_closed_from_airflows_record(store, run) -> None:
    """The scheduler queues its DAG-run events for a writer thread: killed before it wrote the end,
    the run would stay open. A pass records the end capture would have sent, at Airflow's end_date."""
    captured, dag_run = run
    kept, terminal = dag_events(captured, dag_run)
    started = {**terminal, "eventType": "START", "eventTime": dag_run.start_date.isoformat()}
    started["run"] = {
        **terminal["run"],
        "facets": {k: v for k, v in terminal["run"]["facets"].items() if k != "errorMessage"},
    }
    store.record_many([*kept, started])
    dag_uuid = terminal["run"]["runId"]

    reconciler(store).reconcile()

    assert kinds(store, dag_uuid) == [("START", False), (terminal["eventType"], True)]
    (closed,) = [e for e in store.events(run_id=dag_uuid) if RECONCILED in e["run"]["facets"]]
    validate_event(closed)
    # its owners are Airflow's record of the DAG's (DagModel.owners), as capture read them from the DAG
    assert terminal["job"]["facets"]["ownership"]["owners"] == [{"name": "airflow"}]
    assert closed["job"] == terminal["job"]
    assert closed["eventTime"] == dag_run.end_date.isoformat()
    assert closed["run"]["facets"][RECONCILED]["airflow_state"] == str(dag_run.state)
    assert closed["run"]["facets"]["nominalTime"] == terminal["run"]["facets"]["nominalTime"]
    assert reconciler(store).reconcile().stored == 0  # once


def test_a_dag_run_capture_never_saw_start_gets_nothing(store, run) -> None:
    captured, dag_run = run
    kept, terminal = dag_events(captured, dag_run)
    store.record_many(kept)

    reconciler(store).reconcile()

    assert kinds(store, terminal["run"]["runId"]) == []

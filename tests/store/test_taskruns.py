"""The store reads reconciliation uses: open Airflow task runs, and the event types of runs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow_lineage_provider.core import runids
from tests.store.events import new_run, run_event

DAG = "sales"
DAG_RUN = "manual__1"
SINCE = datetime(2026, 1, 1, tzinfo=timezone.utc)


def task_facets(task_id: str, try_number: int = 1, map_index: int = -1) -> dict[str, Any]:
    return {
        "parent": {
            "run": {"runId": runids.dag_run_id(DAG, DAG_RUN)},
            "job": {"namespace": "airflow", "name": DAG},
        },
        "airflowLineage_task": {
            "dag_id": DAG,
            "task_id": task_id,
            "run_id": DAG_RUN,
            "try_number": try_number,
            "map_index": map_index,
        },
    }


def task_events(task_id: str, *kinds: str, try_number: int = 1, minute: float = 1) -> tuple[str, list[Any]]:
    run_id = runids.task_run_id(DAG, task_id, DAG_RUN, try_number, -1)
    facets = task_facets(task_id, try_number)
    events = [
        run_event(kind, f"{DAG}.{task_id}", run_id, minute=minute + i, run_facets=facets)
        for i, kind in enumerate(kinds)
    ]
    return run_id, events


def test_open_task_runs_are_started_task_runs_without_a_terminal_event(store):
    open_run, started = task_events("load", "START")
    _, done = task_events("clean", "START", "COMPLETE")
    _, failed = task_events("export", "START", "FAIL")
    retried, second = task_events("load", "START", "RUNNING", try_number=2, minute=10)
    store.record_many(started + done + failed + second)

    found = store.open_task_runs("airflow", SINCE)

    assert [(r.run_id, r.task_id, r.try_number) for r in found] == [
        (open_run, "load", 1),
        (retried, "load", 2),
    ]
    first = found[0]
    assert (first.job_namespace, first.job_name, first.dag_id, first.dag_run_id, first.map_index) == (
        "airflow",
        f"{DAG}.load",
        DAG,
        DAG_RUN,
        -1,
    )
    assert first.started_at == datetime(2026, 1, 1, 0, 1)


def test_open_task_runs_leave_out_dag_runs_other_namespaces_other_producers_and_older_runs(store):
    dag_run = runids.dag_run_id(DAG, DAG_RUN)
    store.record(run_event("START", DAG, dag_run, minute=1))  # the DAG run: no parent, no task facet
    store.record(
        run_event("START", "spark.job", new_run(), minute=1, namespace="spark", run_facets=task_facets("x"))
    )
    parent_only = {"parent": task_facets("y")["parent"]}
    store.record(run_event("START", f"{DAG}.y", new_run(), minute=1, run_facets=parent_only))
    _, early = task_events("load", "START", minute=1)
    store.record_many(early)

    assert store.open_task_runs("airflow", datetime(2026, 1, 1, 0, 2, tzinfo=timezone.utc)) == []
    assert [r.task_id for r in store.open_task_runs("airflow", SINCE)] == ["load"]


def test_open_task_runs_stop_at_the_limit_oldest_first(store):
    for minute, task_id in enumerate(("a", "b", "c")):
        store.record_many(task_events(task_id, "START", minute=minute)[1])

    assert [r.task_id for r in store.open_task_runs("airflow", SINCE, limit=2)] == ["a", "b"]


def test_event_types_name_each_runs_stored_types_and_leave_out_unknown_runs(store):
    started, events = task_events("load", "START", "RUNNING")
    done, more = task_events("clean", "START", "COMPLETE")
    store.record_many(events + more)

    assert store.event_types([started, done, new_run()]) == {
        started: {"START", "RUNNING"},
        done: {"START", "COMPLETE"},
    }
    assert store.event_types([]) == {}


def test_open_dag_runs_do_not_use_up_the_limit(store):
    store.record(run_event("START", DAG, runids.dag_run_id(DAG, DAG_RUN), minute=0))
    store.record_many(task_events("load", "START", minute=1)[1])

    assert [r.task_id for r in store.open_task_runs("airflow", SINCE, limit=1)] == ["load"]

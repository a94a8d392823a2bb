"""dag.test() of tests/capture/dags/capture_owners.py: task and DAG-run events name the owners Airflow
shows (the ``ownership`` job facet), and the impact summary of the stored events counts by them."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_lineage_provider.capture import assets
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.capture.conftest import Events, load_dag_module, run_dag
from tests.spec import validate_event

DAG_ID = "capture_owners"


@pytest.fixture(scope="module")
def events(airflow_db: Any) -> Events:
    """One dag.test() of capture_owners for the whole module."""
    emitter = AccumulatingEmitter()
    run_dag(DAG_ID, "capture_owners_dag", emitter)
    return Events(emitter.dicts())


def owners(event: dict[str, Any]) -> list[str]:
    return [owner["name"] for owner in event["job"]["facets"]["ownership"]["owners"]]


def node(asset_name: str) -> str:
    found = assets.dataset(getattr(load_dag_module(DAG_ID), asset_name))
    assert found is not None
    return f"dataset:{found.namespace}:{found.name}"


def test_every_event_matches_the_openlineage_schema(events: Events) -> None:
    assert len(events.all) == 7  # START and COMPLETE of three tasks, the DAG run's COMPLETE
    for event in events.all:
        validate_event(event)


def test_a_task_with_several_owners_names_each_of_them_on_every_event(events: Events) -> None:
    for event_type in ("START", "COMPLETE"):
        assert owners(events.one(f"{DAG_ID}.transform", event_type)) == ["alice", "bob"]


def test_tasks_owned_through_default_args_name_that_owner(events: Events) -> None:
    for task_id in ("extract", "report"):
        assert owners(events.one(f"{DAG_ID}.{task_id}", "COMPLETE")) == ["team-a"]


def test_the_dag_runs_event_names_every_owner_of_its_tasks(events: Events) -> None:
    assert owners(events.one(DAG_ID, "COMPLETE")) == ["alice", "bob", "team-a"]


def test_the_impact_summary_of_the_stored_events_counts_downstream_nodes_by_their_tasks_owner(
    events: Events, store: Any
) -> None:
    store.record_many(events.all)

    summary = store.impact_summary(node("RAW")).to_dict()

    # transform (alice, bob), clean, report (team-a), summary: the datasets have no owner
    assert summary["total"] == 4
    assert summary["byOwner"] == [
        {"owner": "alice", "count": 1},
        {"owner": "bob", "count": 1},
        {"owner": "team-a", "count": 1},
    ]
    assert summary["unowned"] == 2
    assert summary["dags"] == [{"dagId": DAG_ID, "namespace": "airflow", "jobs": 2}]


def test_downstream_of_the_last_task_input_only_its_owner_is_counted(events: Events, store: Any) -> None:
    store.record_many(events.all)

    summary = store.impact_summary(node("CLEAN")).to_dict()

    assert (summary["total"], summary["byOwner"], summary["unowned"]) == (
        2,
        [{"owner": "team-a", "count": 1}],
        1,
    )

"""The events reconciliation records: the same identity as capture's, Airflow's times, our facet."""

from __future__ import annotations

from datetime import datetime, timezone

import jsonschema
import pytest

from airflow_lineage_provider.capture import events as capture_events
from airflow_lineage_provider.capture import facets as capture_facets
from airflow_lineage_provider.capture.runinfo import DagRunInfo, TaskRunInfo
from airflow_lineage_provider.core.events import parse_event
from airflow_lineage_provider.reconcile import dagruns
from airflow_lineage_provider.reconcile.events import (
    PRODUCER,
    RECONCILED,
    Attempt,
    missing_events,
    terminal_event_type,
)
from tests.spec import validate_against, validate_event

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:openlineage")

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
END = datetime(2026, 3, 1, 12, 5, tzinfo=timezone.utc)
NOW = datetime(2026, 3, 1, 12, 10, tzinfo=timezone.utc)


def attempt(state: str | None = "success", hostname: str | None = "worker-1", **changes: object) -> Attempt:
    values: dict[str, object] = {
        "dag_id": "sales",
        "task_id": "load",
        "dag_run_id": "manual__1",
        "try_number": 2,
        "map_index": 3,
        "state": state,
        "start_date": START,
        "end_date": END,
        "hostname": hostname,
        "operator": "PythonOperator",
    }
    values.update(changes)
    return Attempt(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("success", "COMPLETE"),
        ("failed", "FAIL"),
        ("upstream_failed", "FAIL"),
        ("up_for_retry", "FAIL"),
        ("skipped", "ABORT"),
        ("removed", "ABORT"),
    ],
)
def test_airflow_states_map_to_terminal_events(state: str, expected: str) -> None:
    assert terminal_event_type(state) == expected
    (event,) = missing_events(attempt(state), {"START"}, "airflow", NOW)
    assert event["eventType"] == expected


def test_an_open_run_gets_its_terminal_event_at_airflows_end_date_with_the_reconciled_facet() -> None:
    (event,) = missing_events(attempt(), {"START", "RUNNING"}, "airflow", NOW)

    validate_event(event)
    parse_event(event)  # what ingest checks
    assert event["eventTime"] == "2026-03-01T12:05:00+00:00"
    assert event["run"]["facets"][RECONCILED] == {
        "_producer": PRODUCER,
        "_schemaURL": event["run"]["facets"][RECONCILED]["_schemaURL"],
        "source": "airflow_metadata_db",
        "airflow_state": "success",
        "reconciled_at": "2026-03-01T12:10:00+00:00",
        "reason": "the task attempt ended in Airflow (success) but no terminal event was recorded",
    }


def test_an_attempt_with_no_events_gets_start_at_start_date_and_its_terminal_event() -> None:
    start, end = missing_events(attempt("failed"), set(), "airflow", NOW)

    assert (start["eventType"], start["eventTime"]) == ("START", "2026-03-01T12:00:00+00:00")
    assert (end["eventType"], end["eventTime"]) == ("FAIL", "2026-03-01T12:05:00+00:00")
    assert start["run"]["runId"] == end["run"]["runId"]
    assert all(RECONCILED in e["run"]["facets"] for e in (start, end))


def test_a_run_with_a_terminal_event_but_no_start_gets_only_the_start() -> None:
    (event,) = missing_events(attempt("failed"), {"FAIL"}, "airflow", NOW)
    assert event["eventType"] == "START"


def test_nothing_is_recorded_for_closed_running_or_never_run_attempts() -> None:
    assert missing_events(attempt(), {"START", "COMPLETE"}, "airflow", NOW) == []
    assert missing_events(attempt("running", end_date=None), {"START"}, "airflow", NOW) == []
    assert missing_events(attempt("up_for_reschedule"), {"START"}, "airflow", NOW) == []
    # skipped or upstream_failed by the scheduler: no task process ran it, capture never saw it
    assert missing_events(attempt("upstream_failed", hostname=None), set(), "airflow", NOW) == []


def test_the_events_have_captures_job_run_id_parent_task_facet_and_producer() -> None:
    info = TaskRunInfo(
        dag_run=DagRunInfo("sales", "manual__1", None, None, "ns"),
        task_id="load",
        try_number=2,
        map_index=3,
        operator="PythonOperator",
        hostname="worker-1",
    )
    captured = capture_events.task_event(info, capture_events.COMPLETE)
    (ours,) = missing_events(attempt(), {"START"}, "ns", NOW)

    assert PRODUCER == capture_facets.PRODUCER
    assert ours["producer"] == captured["producer"]
    assert ours["schemaURL"] == captured["schemaURL"]
    assert ours["job"] == captured["job"]
    assert ours["run"]["runId"] == captured["run"]["runId"]
    for name in ("parent", "airflowLineage_task"):
        assert ours["run"]["facets"][name] == captured["run"]["facets"][name], name


def test_the_reconciled_facet_schema_rejects_a_facet_without_its_airflow_state() -> None:
    (event,) = missing_events(attempt(), {"START"}, "airflow", NOW)
    facet = dict(event["run"]["facets"][RECONCILED])
    validate_against(facet, facet["_schemaURL"])
    del facet["airflow_state"]

    with pytest.raises(jsonschema.ValidationError, match="airflow_state"):
        validate_against(facet, facet["_schemaURL"])


def test_a_closed_dag_run_names_its_owners_as_capture_does() -> None:
    run = dagruns.EndedDagRun("sales", "manual__1", "success", END, owners="team-a, alice, bob, alice")
    info = DagRunInfo("sales", "manual__1", None, None, "ns", owners=("alice", "bob", "team-a"))
    captured = capture_events.dag_event(info, capture_events.COMPLETE)

    (ours,) = dagruns.missing_events(run, {"START"}, "ns", NOW)

    validate_event(ours)
    assert ours["job"] == captured["job"]
    assert capture_facets.owners(run.owners) == dagruns.owners(run.owners)


def test_a_closed_dag_run_without_owners_in_airflow_has_no_ownership_facet() -> None:
    for owners in (None, "", " , "):
        run = dagruns.EndedDagRun("sales", "manual__1", "failed", END, owners=owners)
        (ours,) = dagruns.missing_events(run, {"START"}, "ns", NOW)
        assert "ownership" not in ours["job"]["facets"]

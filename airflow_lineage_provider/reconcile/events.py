"""What reconciliation records for one ended task attempt, as plain OpenLineage event dicts.

The events have the job, parent facet, ``airflowLineage_task`` facet and producer that capture
gives the same attempt (a test compares them with capture's), plus ``airflowLineage_reconciled``.
Their times come from Airflow's record (START at the attempt's start_date, the terminal event at its
end_date), so reconciling the same attempt twice stores each event once.

A task attempt's events carry no ``ownership``: Airflow's metadata DB keeps no task's owner outside
the serialized DAG (a blob to load and decompress per DAG version, not worth it here). The store keeps
a job's facets by name across events, so the owners capture sent with the job's other events stay,
and a job the store never saw owners of counts under its DAG's in the impact summary.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_lineage_provider import __version__
from airflow_lineage_provider.core import runids

PRODUCER = f"https://github.com/airflow-lineage-provider/airflow-lineage-provider/tree/{__version__}"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PARENT_SCHEMA = "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
JOB_TYPE_SCHEMA = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
OWNERSHIP_SCHEMA = "https://openlineage.io/spec/facets/1-0-1/OwnershipJobFacet.json#/$defs/OwnershipJobFacet"
_OURS = (
    "https://raw.githubusercontent.com/airflow-lineage-provider/airflow-lineage-provider/0.1.0/"
    "airflow_lineage_provider/schemas/"
)
TASK_SCHEMA = _OURS + "AirflowLineageTaskRunFacet.json#/$defs/AirflowLineageTaskRunFacet"
RECONCILED_SCHEMA = _OURS + "AirflowLineageReconciledRunFacet.json#/$defs/AirflowLineageReconciledRunFacet"
RECONCILED = "airflowLineage_reconciled"

# Airflow task instance states in which an attempt is over; up_for_retry is a failed attempt (Airflow
# archives it as failed in task_instance_history).
ENDED_STATES = ("success", "failed", "upstream_failed", "up_for_retry", "skipped", "removed")
_TERMINAL = {"success": "COMPLETE", "failed": "FAIL", "upstream_failed": "FAIL", "up_for_retry": "FAIL"}
TERMINAL_EVENTS = frozenset({"COMPLETE", "FAIL", "ABORT"})
START_EVENTS = frozenset({"START", "RUNNING"})


@dataclass(frozen=True)
class Attempt:
    """One task attempt as Airflow's metadata DB records it (task_instance or its history)."""

    dag_id: str
    task_id: str
    dag_run_id: str
    try_number: int
    map_index: int
    state: str | None
    start_date: datetime | None
    end_date: datetime | None
    hostname: str | None = None
    operator: str | None = None

    @property
    def run_uuid(self) -> str:
        return runids.task_run_id(self.dag_id, self.task_id, self.dag_run_id, self.try_number, self.map_index)

    @property
    def ran(self) -> bool:
        """True when a task process started it (the execution API records the worker's hostname)."""
        return bool(self.hostname) and self.start_date is not None

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES and self.end_date is not None


def terminal_event_type(state: str | None) -> str:
    """COMPLETE for success, FAIL for a failed attempt, ABORT for anything else that ended it."""
    return _TERMINAL.get(state or "", "ABORT")


def _iso(when: datetime) -> str:
    if when.tzinfo is None:  # Airflow's UtcDateTime is aware; a naive value is UTC
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).isoformat()


def facet(schema: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": schema, **fields}


def reconciled_event(
    event_type: str,
    when: datetime,
    run: tuple[str, dict[str, Any]],
    job: tuple[str, str, str],
    reconciled: tuple[str | None, datetime, str],
    owners: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A reconciled run event: ``run`` is (run id, facets), ``job`` (namespace, name, jobType),
    ``reconciled`` (Airflow's state, when, why) the ``airflowLineage_reconciled`` facet's fields and
    ``owners`` the job's ``ownership`` (none: no facet)."""
    run_id, run_facets = run
    namespace, name, kind = job
    state, now, reason = reconciled
    run_facets = {
        **run_facets,
        RECONCILED: facet(
            RECONCILED_SCHEMA,
            source="airflow_metadata_db",
            airflow_state=state,
            reconciled_at=_iso(now),
            reason=reason,
        ),
    }
    job_facets = {
        "jobType": facet(JOB_TYPE_SCHEMA, processingType="BATCH", integration="AIRFLOW", jobType=kind)
    }
    if owners:
        job_facets["ownership"] = facet(OWNERSHIP_SCHEMA, owners=[{"name": owner} for owner in owners])
    return {
        "eventType": event_type,
        "eventTime": _iso(when),
        "run": {"runId": run_id, "facets": run_facets},
        "job": {"namespace": namespace, "name": name, "facets": job_facets},
        "inputs": [],
        "outputs": [],
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
    }


def _event(
    attempt: Attempt, event_type: str, when: datetime, namespace: str, now: datetime, reason: str
) -> dict[str, Any]:
    dag_run = runids.dag_run_id(attempt.dag_id, attempt.dag_run_id)
    parent_run = {"runId": dag_run, "facets": {}}
    parent_job = {"namespace": namespace, "name": attempt.dag_id, "facets": {}}
    run_facets = {
        "parent": facet(
            PARENT_SCHEMA,
            run=parent_run,
            job=parent_job,
            root={"run": dict(parent_run, facets={}), "job": dict(parent_job, facets={})},
        ),
        "airflowLineage_task": facet(
            TASK_SCHEMA,
            dag_id=attempt.dag_id,
            task_id=attempt.task_id,
            run_id=attempt.dag_run_id,
            try_number=attempt.try_number,
            map_index=attempt.map_index,
            operator=attempt.operator,
            hostname=attempt.hostname or None,
        ),
    }
    job = (namespace, f"{attempt.dag_id}.{attempt.task_id}", "TASK")
    return reconciled_event(
        event_type, when, (attempt.run_uuid, run_facets), job, (attempt.state, now, reason)
    )


def missing_events(
    attempt: Attempt, stored: Set[str], namespace: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The events to record for an ended ``attempt`` whose run has the event types ``stored``.

    Nothing for an attempt that has not ended, or that no task process ran and that capture never
    saw (a task the scheduler skipped or marked upstream_failed has no run of ours). A START when a
    task process ran it and no START is stored; the terminal event when none is stored.
    """
    if not attempt.ended or (not stored and not attempt.ran):
        return []
    assert attempt.end_date is not None
    now = now or datetime.now(timezone.utc)
    events = []
    if not stored & START_EVENTS and attempt.ran:
        assert attempt.start_date is not None
        reason = "the task attempt ran in Airflow but no START event was recorded"
        events.append(_event(attempt, "START", attempt.start_date, namespace, now, reason))
    if not stored & TERMINAL_EVENTS:
        end_type = terminal_event_type(attempt.state)
        reason = f"the task attempt ended in Airflow ({attempt.state}) but no terminal event was recorded"
        events.append(_event(attempt, end_type, attempt.end_date, namespace, now, reason))
    return events

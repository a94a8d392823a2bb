"""Reads for reconciliation: Airflow task runs still open here, and which event types runs have.

A task run is one captured by our listener: its run facets hold ``airflowLineage_task`` and it has a
parent (the DAG run). "Open" means its state is RUNNING: a START (or RUNNING) event and no
COMPLETE, FAIL or ABORT.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.store import tables as t

TASK_FACET = "airflowLineage_task"
_CHUNK = 500


@dataclass(frozen=True)
class OpenTaskRun:
    """One open task run and the Airflow task attempt its ``airflowLineage_task`` facet names."""

    run_id: str
    job_namespace: str
    job_name: str
    dag_id: str
    task_id: str
    dag_run_id: str
    try_number: int
    map_index: int
    started_at: datetime | None


def _task_run(row: Any) -> OpenTaskRun | None:
    facet = (row.facets or {}).get(TASK_FACET)
    if not isinstance(facet, dict):
        return None
    try:
        return OpenTaskRun(
            run_id=row.run_id,
            job_namespace=row.namespace,
            job_name=row.name,
            dag_id=str(facet["dag_id"]),
            task_id=str(facet["task_id"]),
            dag_run_id=str(facet["run_id"]),
            try_number=int(facet["try_number"]),
            map_index=int(facet["map_index"]),
            started_at=row.started_at,
        )
    except (KeyError, TypeError, ValueError):
        return None


def open_task_runs(conn: Connection, namespace: str, since: datetime, limit: int) -> list[OpenTaskRun]:
    """Open task runs of jobs in ``namespace`` started at or after ``since``, oldest first."""
    rows = conn.execute(
        select(t.Run.run_id, t.Run.facets, t.Run.started_at, t.Node.namespace, t.Node.name)
        .join(t.Node, t.Node.id == t.Run.job_id)
        .where(
            t.Run.state == "RUNNING",
            t.Run.started_at >= since,
            t.Run.parent_run_id.is_not(None),
            t.Node.namespace == namespace,
        )
        .order_by(t.Run.started_at, t.Run.run_id)
        .limit(limit)
    ).all()
    found = (_task_run(row) for row in rows)
    return [run for run in found if run is not None]


def event_types(conn: Connection, run_ids: Iterable[str]) -> dict[str, set[str]]:
    """The run event types stored for each of ``run_ids`` (runs without events are left out)."""
    ids = sorted(set(run_ids))
    found: dict[str, set[str]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            select(t.Event.run_id, t.Event.event_type)
            .where(t.Event.run_id.in_(ids[start : start + _CHUNK]), t.Event.kind == "run")
            .distinct()
        ).all()
        for run_id, event_type in rows:
            if run_id and event_type:
                found.setdefault(run_id, set()).add(event_type)
    return found

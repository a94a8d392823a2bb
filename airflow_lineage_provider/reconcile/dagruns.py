"""DAG runs whose terminal event never reached the store, closed from Airflow's record.

The scheduler does not write its DAG-run events in its loop: it queues them for a writer thread
(:func:`airflow_lineage_provider.emit.budget.hand_off`), which writes them to the outbox within
milliseconds. A ``kill -9`` of the scheduler in those milliseconds loses what was queued. A DAG run
whose START is stored, that Airflow records as ended, and that has no terminal event here, gets the
COMPLETE or FAIL that capture would have sent (the same job, facets and run id), at Airflow's
end_date, marked ``airflowLineage_reconciled``. A DAG run capture never saw start (before the
provider was installed, or while it was off) is left alone.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_lineage_provider.capture import events as capture_events
from airflow_lineage_provider.capture.runinfo import dag_run_info
from airflow_lineage_provider.core import runids
from airflow_lineage_provider.reconcile.events import (
    RECONCILED,
    RECONCILED_SCHEMA,
    START_EVENTS,
    TERMINAL_EVENTS,
    facet,
    iso,
)

# DAG run states in which a run is over, and the event each ends with.
_TERMINAL = {"success": capture_events.COMPLETE, "failed": capture_events.FAIL}


@dataclass(frozen=True)
class EndedDagRun:
    """One DAG run as Airflow's ``dag_run`` table records it (what :func:`dag_run_info` reads)."""

    dag_id: str
    run_id: str
    state: str
    end_date: datetime
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    logical_date: datetime | None = None
    run_after: datetime | None = None

    @property
    def run_uuid(self) -> str:
        return runids.dag_run_id(self.dag_id, self.run_id)


def ended_between(session: Session, since: datetime, until: datetime, limit: int) -> list[EndedDagRun]:
    """DAG runs that ended in ``[since, until)``, oldest end first, at most ``limit``."""
    from airflow.models.dagrun import DagRun

    rows = session.execute(
        select(
            DagRun.dag_id,
            DagRun.run_id,
            DagRun.state,
            DagRun.end_date,
            DagRun.data_interval_start,
            DagRun.data_interval_end,
            DagRun.logical_date,
            DagRun.run_after,
        )
        .where(DagRun.end_date >= since, DagRun.end_date < until, DagRun.state.in_(tuple(_TERMINAL)))
        .order_by(DagRun.end_date)
        .limit(limit)
    ).all()
    return [
        EndedDagRun(
            dag_id=row.dag_id,
            run_id=row.run_id,
            state=str(getattr(row.state, "value", row.state)),
            end_date=row.end_date,
            data_interval_start=row.data_interval_start,
            data_interval_end=row.data_interval_end,
            logical_date=row.logical_date,
            run_after=row.run_after,
        )
        for row in rows
    ]


def missing_events(
    run: EndedDagRun, stored: Set[str], namespace: str, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The terminal event to record for ``run``, whose DAG run has the event types ``stored``: none
    unless its START is stored and no terminal event is."""
    if not stored & START_EVENTS or stored & TERMINAL_EVENTS or run.state not in _TERMINAL:
        return []
    now = now or datetime.now(timezone.utc)
    info = dag_run_info(run)
    info.namespace = namespace
    event = capture_events.dag_event(info, _TERMINAL[run.state])
    event["eventTime"] = iso(run.end_date)
    event["run"]["facets"][RECONCILED] = facet(
        RECONCILED_SCHEMA,
        source="airflow_metadata_db",
        airflow_state=run.state,
        reconciled_at=iso(now),
        reason=f"the DAG run ended in Airflow ({run.state}) but no terminal event was recorded",
    )
    return [event]

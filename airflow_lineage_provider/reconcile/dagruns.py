"""DAG runs whose terminal event never reached the store, closed from Airflow's record.

The scheduler does not write its DAG-run events in its loop: it queues them for a writer thread
(:func:`airflow_lineage_provider.emit.budget.hand_off`), which writes them to the outbox within
milliseconds. A ``kill -9`` of the scheduler in those milliseconds loses what was queued. A DAG run
whose START is stored, that Airflow records as ended, and that has no terminal event here, gets the
COMPLETE or FAIL that capture would have sent (the same job, facets and run id), at Airflow's
end_date, marked ``airflowLineage_reconciled``. A DAG run capture never saw start (before the
provider was installed, or while it was off) is left alone.

The event is what capture sends at a DAG run's end (``capture.events.dag_event``: job ``<dag_id>``,
its ``jobType`` and ``ownership``, the run's ``nominalTime``; a test compares them), less the
``processing_engine`` facet, which describes the process that sent it. The owners are the DAG's as
Airflow keeps them (``dag.owners``, the union of its tasks' owners, which capture reads from the DAG).
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_lineage_provider.core import runids
from airflow_lineage_provider.reconcile.events import START_EVENTS, TERMINAL_EVENTS, facet, reconciled_event

NOMINAL_TIME_SCHEMA = (
    "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
)
# DAG run states in which a run is over, and the event each ends with.
_TERMINAL = {"success": "COMPLETE", "failed": "FAIL"}


@dataclass(frozen=True)
class EndedDagRun:
    """One DAG run as Airflow's ``dag_run`` table records it."""

    dag_id: str
    run_id: str
    state: str
    end_date: datetime
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    logical_date: datetime | None = None
    run_after: datetime | None = None
    owners: str | None = None  # Airflow's comma-separated owners of the DAG (DagModel.owners)

    @property
    def run_uuid(self) -> str:
        return runids.dag_run_id(self.dag_id, self.run_id)


def ended_between(session: Session, since: datetime, until: datetime, limit: int) -> list[EndedDagRun]:
    """DAG runs that ended in ``[since, until)``, oldest end first, at most ``limit``."""
    from airflow.models.dag import DagModel
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
            DagModel.owners,
        )
        .outerjoin(DagModel, DagModel.dag_id == DagRun.dag_id)
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
            owners=row.owners,
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
    run_facets: dict[str, Any] = {}
    start, end = run.data_interval_start, run.data_interval_end
    if start is None:  # as capture reads it: logical_date may be None, run_after always exists
        start, end = run.logical_date or run.run_after, None
    if start is not None:
        run_facets["nominalTime"] = facet(
            NOMINAL_TIME_SCHEMA,
            nominalStartTime=start.isoformat(),
            nominalEndTime=end.isoformat() if end is not None else None,
        )
    reason = f"the DAG run ended in Airflow ({run.state}) but no terminal event was recorded"
    event = reconciled_event(
        _TERMINAL[run.state],
        run.end_date,
        (run.run_uuid, run_facets),
        (namespace, run.dag_id, "DAG"),
        (run.state, now, reason),
        owners(run.owners),
    )
    return [event]


def owners(text: str | None) -> tuple[str, ...]:
    """The names in Airflow's comma-separated owners, as capture lists a DAG's: stripped, once, sorted."""
    return tuple(sorted({name.strip() for name in (text or "").split(",")} - {""}))

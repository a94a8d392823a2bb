"""Reads of Airflow's metadata DB: task attempts that ended, and the attempts behind open runs.

An attempt is the current row of ``task_instance`` or an earlier try kept in
``task_instance_history`` (Airflow archives a try there, as failed if it had not finished, before
the next try starts).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from airflow_lineage_provider.reconcile.events import ENDED_STATES, Attempt
from airflow_lineage_provider.store.taskruns import OpenTaskRun

_CHUNK = 200


def _models() -> tuple[Any, Any]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory

    return TaskInstance, TaskInstanceHistory


def _columns(model: Any) -> tuple[Any, ...]:
    return (
        model.dag_id,
        model.task_id,
        model.run_id,
        model.try_number,
        model.map_index,
        model.state,
        model.start_date,
        model.end_date,
        model.hostname,
        model.operator,
    )


def _attempt(row: Any) -> Attempt:
    return Attempt(
        dag_id=row.dag_id,
        task_id=row.task_id,
        dag_run_id=row.run_id,
        try_number=int(row.try_number or 0),
        map_index=int(-1 if row.map_index is None else row.map_index),
        state=None if row.state is None else str(getattr(row.state, "value", row.state)),
        start_date=row.start_date,
        end_date=row.end_date,
        hostname=row.hostname or None,
        operator=row.operator,
    )


def ended_between(session: Session, since: datetime, until: datetime, limit: int) -> list[Attempt]:
    """Attempts that ended in ``[since, until)``, oldest end first, at most ``limit``."""
    found: list[Attempt] = []
    for model in _models():
        rows = session.execute(
            select(*_columns(model))
            .where(model.end_date >= since, model.end_date < until, model.state.in_(ENDED_STATES))
            .order_by(model.end_date)
            .limit(limit)
        ).all()
        found.extend(_attempt(row) for row in rows)
    found.sort(key=lambda a: (a.end_date, a.run_uuid))
    return found[:limit]


def _chunks(items: Sequence[OpenTaskRun]) -> Iterable[Sequence[OpenTaskRun]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def behind(session: Session, runs: Sequence[OpenTaskRun]) -> list[Attempt]:
    """The Airflow attempt of each open run, where Airflow has one: the task instance row while it is
    at the run's try, else the history row of that try (its try_number has moved past)."""
    task_instance, history = _models()
    found: list[Attempt] = []
    for chunk in _chunks(runs):
        keys = [(r.dag_id, r.task_id, r.dag_run_id, r.map_index) for r in chunk]
        current = {
            (a.dag_id, a.task_id, a.dag_run_id, a.map_index, a.try_number): a
            for a in map(
                _attempt,
                session.execute(
                    select(*_columns(task_instance)).where(
                        tuple_(
                            task_instance.dag_id,
                            task_instance.task_id,
                            task_instance.run_id,
                            task_instance.map_index,
                        ).in_(keys)
                    )
                ).all(),
            )
        }
        archived = {
            (a.dag_id, a.task_id, a.dag_run_id, a.map_index, a.try_number): a
            for a in map(
                _attempt,
                session.execute(
                    select(*_columns(history)).where(
                        tuple_(history.dag_id, history.task_id, history.run_id, history.map_index).in_(keys)
                    )
                ).all(),
            )
        }
        for run in chunk:
            key = (run.dag_id, run.task_id, run.dag_run_id, run.map_index, run.try_number)
            attempt = current.get(key) or archived.get(key)
            if attempt is not None:
                found.append(attempt)
    return found

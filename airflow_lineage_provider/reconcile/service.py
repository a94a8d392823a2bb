"""The reconciler: a daemon thread in the API server that closes runs a killed process left open.

Each pass (every ``[lineage_provider] reconcile_interval`` seconds; 0 turns it off):

1. reads from Airflow's metadata DB the task attempts that ended since the last pass (at first: in
   the last ``lookback``), at most ``batch`` of them, and from the store the task runs still open
   that started in the last ``lookback``, and the Airflow attempt behind each;
2. leaves alone attempts that ended less than ``[lineage_provider] reconcile_grace`` seconds ago, so
   the task's own events (in flight, or in an outbox being drained) arrive first;
3. for each attempt, records what the store lacks (:func:`~.events.missing_events`): the terminal
   event from Airflow's state and end_date, and a START from its start_date when a task process ran
   it and no START arrived; each marked with ``airflowLineage_reconciled``;
4. the same for the DAG runs that ended in that window: the terminal event of one whose START is
   stored and whose end is not (:mod:`.dagruns`: the scheduler was killed while its event was queued).

Events are keyed by (run id, event type, event time) and their times are Airflow's, so a pass that
runs twice, or two API servers reconciling the same store, store each event once. A failed pass is
one warning line and is tried again at the next tick; nothing here blocks a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from airflow_lineage_provider import conf
from airflow_lineage_provider.core.background import BackgroundService
from airflow_lineage_provider.exceptions import ConfigError, LineageError
from airflow_lineage_provider.reconcile import attempts, dagruns
from airflow_lineage_provider.reconcile.events import missing_events
from airflow_lineage_provider.store.lineagestore import LineageStore

log = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=24)
BATCH = 500


@dataclass(frozen=True)
class PassResult:
    attempts: int
    stored: int
    duplicates: int


def _airflow_session() -> Any:
    from airflow.utils.session import create_session

    return create_session()


class Reconciler(BackgroundService):
    """Closes open task runs from Airflow's record; started and stopped by the API server app."""

    thread_name = "lineage: reconcile"

    def __init__(
        self,
        get_store: Callable[[], LineageStore],
        interval: float,
        grace: float,
        *,
        namespace: str | None = None,
        lookback: timedelta = LOOKBACK,
        batch: int = BATCH,
        session: Callable[[], Any] = _airflow_session,
    ) -> None:
        self._get_store = get_store
        self._interval = interval
        self._grace = timedelta(seconds=grace)
        self._namespace = namespace
        self._lookback = lookback
        self._batch = batch
        self._session = session
        self._watermark: datetime | None = None
        super().__init__()

    @classmethod
    def from_config(cls, get_store: Callable[[], LineageStore]) -> Reconciler:
        try:
            interval = 0.0 if conf.is_disabled() else conf.reconcile_interval()
            grace = conf.reconcile_grace()
        except ConfigError as exc:
            log.warning("lineage: %s; reconciliation with Airflow's records is off", exc)
            interval, grace = 0.0, 0.0
        return cls(get_store, interval, grace)

    def reconcile(self, now: datetime | None = None) -> PassResult:
        """One pass (see the module docstring); raises what the store or Airflow's DB raise."""
        now = now or datetime.now(timezone.utc)
        until = now - self._grace
        since = self._watermark or now - self._lookback
        namespace = self._namespace or conf.namespace()
        store = self._get_store()
        open_runs = store.open_task_runs(namespace, now - self._lookback, self._batch)
        with self._session() as session:
            ended = attempts.ended_between(session, since, until, self._batch)
            found = {a.run_uuid: a for a in [*ended, *attempts.behind(session, open_runs)]}
            dag_runs = dagruns.ended_between(session, since, until, self._batch)
        ready = [a for a in found.values() if a.ended and a.end_date is not None and a.end_date < until]
        stored = store.event_types([*(a.run_uuid for a in ready), *(r.run_uuid for r in dag_runs)])
        events = [e for a in ready for e in missing_events(a, stored.get(a.run_uuid, set()), namespace, now)]
        for run in dag_runs:
            events += dagruns.missing_events(run, stored.get(run.run_uuid, set()), namespace, now)
        result = store.record_many(events)
        self._watermark = min(
            _next_watermark(since, until, [a.end_date for a in ended], self._batch),
            _next_watermark(since, until, [r.end_date for r in dag_runs], self._batch),
        )
        return PassResult(len(ready) + len(dag_runs), result.stored, result.duplicates)

    def tick(self) -> PassResult | None:
        """One pass that never raises: a failure is one warning, and the next tick tries again."""
        try:
            result = self.reconcile()
        except (LineageError, SQLAlchemyError, OSError) as exc:
            log.warning("lineage: reconciliation with Airflow's records failed: %s", exc)
            return None
        if result.stored:
            log.info(
                "lineage: recorded %d events of %d ended task attempts and DAG runs from Airflow's records",
                result.stored,
                result.attempts,
            )
        return result

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.tick()

    def _wanted(self) -> bool:
        return self._interval > 0


def _next_watermark(since: datetime, until: datetime, ends: list[datetime | None], batch: int) -> datetime:
    """Where the next pass starts: ``until``, or after a full batch the last end read (re-read, not
    skipped: recording is idempotent)."""
    if len(ends) < batch or not ends:
        return until
    last = ends[-1]
    assert last is not None
    return last if last > since else since + timedelta(microseconds=1)

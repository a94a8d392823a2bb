"""Replaying the outbox: on demand (``airflow-lineage replay``) and periodically in a long-running process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from airflow_lineage_provider import conf
from airflow_lineage_provider.emit.budget import budget_seconds, error_text
from airflow_lineage_provider.emit.outbox import DrainResult, Outbox, configured_outbox
from airflow_lineage_provider.exceptions import ConfigError, LineageError

if TYPE_CHECKING:
    from airflow_lineage_provider.store.api import LineageStore

log = logging.getLogger(__name__)


def replay(store: LineageStore, outbox: Outbox | None = None, *, wait: bool = True) -> DrainResult:
    """Deliver every pending event of ``outbox`` (default: the configured one) into ``store``."""
    box = outbox or configured_outbox()
    return box.drain(store.record_many, wait=wait)


class PeriodicDrain:
    """A daemon thread that drains the outbox into the store every ``interval`` seconds.

    Started and stopped by the API server app's lifespan; a failed drain is one warning line and is
    tried again at the next tick.
    """

    def __init__(
        self,
        get_store: Callable[[], LineageStore],
        interval: float,
        outbox: Outbox | None = None,
        min_age: float | None = None,
    ) -> None:
        self._get_store = get_store
        self._interval = interval
        self._outbox = outbox
        # Leave alone events that task processes on this machine are still delivering themselves.
        self._min_age = budget_seconds() if min_age is None else min_age
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, get_store: Callable[[], LineageStore]) -> PeriodicDrain:
        try:
            interval = conf.outbox_drain_interval()
        except ConfigError as exc:
            log.warning("lineage: %s; the periodic outbox drain is off", exc)
            interval = 0
        return cls(get_store, interval)

    def tick(self) -> DrainResult | None:
        """One drain, unless another process is draining; never raises."""
        outbox = self._outbox or configured_outbox()
        if not outbox.has_pending(self._min_age):
            return None
        try:
            result = outbox.drain(self._get_store().record_many, wait=False, min_age=self._min_age)
        except (LineageError, OSError) as exc:
            log.warning("lineage: periodic outbox drain failed: %s", error_text(exc))
            return None
        if result.error:
            log.warning(
                "lineage: periodic outbox drain stopped: %s (%d left)", result.error, result.remaining
            )
        elif result.delivered or result.dead:
            log.info(
                "lineage: periodic outbox drain delivered %d events (%d dead-lettered, %d left)",
                result.delivered,
                result.dead,
                result.remaining,
            )
        return result

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.tick()

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="lineage: outbox drain", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

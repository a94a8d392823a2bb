"""``DirectEmitter``: writes events straight into the lineage store of this deployment."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_lineage_provider.emit.budget import budget_seconds, run_within_budget
from airflow_lineage_provider.emit.durable import DurableEmitter
from airflow_lineage_provider.emit.outbox import Outbox

if TYPE_CHECKING:
    from airflow_lineage_provider.core.events import ParsedEvent
    from airflow_lineage_provider.store.lineagestore import LineageStore


class DirectEmitter(DurableEmitter):
    """Records each event with ``LineageStore.record_many`` within the capture time budget.

    Undelivered events wait in the outbox (see :class:`DurableEmitter`). The store is
    ``LineageStore.from_airflow_config()``, created on first use and kept for the life of the
    process. A forked child (LocalExecutor workers fork from the scheduler) never reuses its
    parent's connections: it builds its own store.
    """

    kind: ClassVar[str] = "direct"

    def __init__(self, outbox: Outbox | None = None, store: LineageStore | None = None) -> None:
        super().__init__(outbox)
        self._lock = threading.Lock()
        self._store: LineageStore | None = store
        self._given = store is not None
        self._pid = os.getpid()

    def _get_store(self) -> LineageStore:
        with self._lock:
            if self._given and self._store is not None:
                return self._store
            if self._store is None or self._pid != os.getpid():
                from airflow_lineage_provider.store.lineagestore import LineageStore

                # The store's own busy/connect timeout follows the budget, so work abandoned by the
                # budget does not linger much longer than the budget itself.
                self._store = LineageStore.from_airflow_config(timeout=budget_seconds())
                self._pid = os.getpid()
            return self._store

    def deliver(self, events: list[dict[str, Any]]) -> None:
        self._get_store().record_many(events)

    def deliver_validated(self, event: ParsedEvent) -> None:
        self._get_store().record_validated([event])

    def close(self) -> None:
        with self._lock:
            if self._given:
                return
            store, self._store = self._store, None
            if store is not None and self._pid == os.getpid():
                run_within_budget(store.close, timeout=budget_seconds(), what="closing the lineage store")

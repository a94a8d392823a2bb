"""``DirectEmitter``: writes events straight into the lineage store of this deployment."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_lineage_provider.emit.budget import budget_seconds, run_within_budget

if TYPE_CHECKING:
    from airflow_lineage_provider.store.api import LineageStore


class DirectEmitter:
    """Records each event with ``LineageStore.record`` within the capture time budget.

    The store is ``LineageStore.from_airflow_config()``, created on first use and kept for the
    life of the process. A forked child (LocalExecutor workers fork from the scheduler) never
    reuses its parent's connections: it builds its own store.
    """

    kind: ClassVar[str] = "direct"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._store: LineageStore | None = None
        self._pid = os.getpid()

    def _get_store(self) -> LineageStore:
        with self._lock:
            if self._store is None or self._pid != os.getpid():
                from airflow_lineage_provider.store.api import LineageStore

                # The store's own busy/connect timeout follows the budget, so work abandoned by the
                # budget does not linger much longer than the budget itself.
                self._store = LineageStore.from_airflow_config(timeout=budget_seconds())
                self._pid = os.getpid()
            return self._store

    def emit(self, event: Any) -> None:
        run_within_budget(
            lambda: self._get_store().record(event),
            timeout=budget_seconds(),
            what=f"recording {_describe(event)} in the lineage store",
        )

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
            if store is not None and self._pid == os.getpid():
                run_within_budget(store.close, timeout=budget_seconds(), what="closing the lineage store")


def _describe(event: Any) -> str:
    event_type = getattr(event, "eventType", None)
    job = getattr(event, "job", None)
    name = getattr(job, "name", None)
    if event_type is None or name is None:
        return "an event"
    return f"{getattr(event_type, 'value', event_type)} of {name}"

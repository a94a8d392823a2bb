"""What the in-task ML SDK recorded for a running task attempt, until the listener sends it.

The SDK (:mod:`airflow_lineage_provider.ml`) adds datasets, job facets and seeds under the task
attempt's run id; the listener drains them into that attempt's COMPLETE (or FAIL) event, so they
belong to the same run as automatic capture. Per process, thread-safe; a terminal event always
drains, so nothing outlives its attempt.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow_lineage_provider.capture.lineage import DatasetEntry
from airflow_lineage_provider.core import runids


class Pending:
    """Inputs, outputs, job facets and seeds one task attempt logged through the SDK."""

    __slots__ = ("inputs", "outputs", "job_facets", "seeds")

    def __init__(self) -> None:
        self.inputs: dict[tuple[str, str], DatasetEntry] = {}
        self.outputs: dict[tuple[str, str], DatasetEntry] = {}
        self.job_facets: dict[str, Any] = {}
        self.seeds: list[dict[str, Any]] = []


def run_key(task_instance: Any) -> str:
    """The OpenLineage run id of a running task attempt (what the listener's events use)."""
    map_index = task_instance.map_index
    return runids.task_run_id(
        str(task_instance.dag_id),
        str(task_instance.task_id),
        str(task_instance.run_id),
        int(task_instance.try_number or 0),
        -1 if map_index is None else int(map_index),
    )


_lock = threading.Lock()
_pending: dict[str, Pending] = {}


def update(run_id: str, change: Any) -> Any:
    """Apply ``change(pending)`` to the attempt's record under the lock; return what it returns."""
    with _lock:
        return change(_pending.setdefault(run_id, Pending()))


def seeds(run_id: str) -> list[dict[str, Any]]:
    with _lock:
        found = _pending.get(run_id)
        return list(found.seeds) if found else []


def drain(run_id: str) -> Pending | None:
    """Take the attempt's record (None when the SDK was not used)."""
    with _lock:
        return _pending.pop(run_id, None)

"""Deterministic run ids: the same task attempt always gets the same UUID, retries never collide."""

from __future__ import annotations

import hashlib
import uuid

# A fixed namespace UUID for this product (uuid5 of its name under the URL namespace).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://airflow-lineage-provider/run-id")


def dag_run_id(dag_id: str, run_id: str) -> str:
    """UUID of the OpenLineage run for one DAG run."""
    return str(uuid.uuid5(_NAMESPACE, f"dag\x1f{dag_id}\x1f{run_id}"))


def task_run_id(dag_id: str, task_id: str, run_id: str, try_number: int, map_index: int) -> str:
    """UUID of the OpenLineage run for one task attempt (one per try and per map index)."""
    key = f"task\x1f{dag_id}\x1f{task_id}\x1f{run_id}\x1f{int(try_number)}\x1f{int(map_index)}"
    return str(uuid.uuid5(_NAMESPACE, key))


def run_event_key(run_id: str, event_type: str, event_time_utc: str) -> str:
    """The store's key of a run event: one per (run id, event type, event time).

    ``event_time_utc`` is the event time as naive UTC in ISO format (``datetime.isoformat()`` of a
    naive UTC datetime); the outbox names a pending event's file by this key."""
    text = f"run\x1f{run_id}\x1f{event_type}\x1f{event_time_utc}"
    return hashlib.sha256(text.encode()).hexdigest()

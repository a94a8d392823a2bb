"""When each task's COMPLETE event becomes visible in our store, read from its raw event table.

Read with sqlite3 / psycopg2 directly, never through ``LineageStore`` or the CLI: those deliver what
is pending in the outbox before they answer, which would hide the very latency measured here. A
thread polls ``lineage_events`` (``airflow_lineage_provider/store/tables.py``) every ``every`` seconds
and notes the wall-clock time it first saw each task attempt's COMPLETE (key ``run_id/task_id/try``,
from the event's ``airflowLineage_task`` run facet, or ``job_name`` and the Airflow run id).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import datetime, timezone
from typing import Any

TABLE = "lineage_events"


class Poller(threading.Thread):
    """Polls the store at ``url`` (``sqlite:///path`` or ``postgresql[+psycopg2]://...``) until stopped."""

    def __init__(self, url: str, every: float = 0.05) -> None:
        super().__init__(name="bench-delivery-poller", daemon=True)
        self.url = url
        self.every = every
        self.seen: dict[str, datetime] = {}  # task attempt -> when its COMPLETE was first seen (UTC)
        self.dag_events = 0
        self.polls = 0
        self.errors: list[str] = []
        self._ids: set[int] = set()
        self._halt = threading.Event()
        self._conn: Any = None

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                self.poll()
                self._halt.wait(self.every)
        finally:
            if self._conn is not None:
                self._conn.close()

    def poll(self) -> None:
        """One look at the table (errors, such as a table not created yet, are noted and retried)."""
        self.polls += 1
        try:
            rows = self._query()
        except Exception as exc:  # noqa: BLE001 - any driver error: the store is not there yet
            if not self.errors or self.errors[-1] != str(exc):
                self.errors.append(str(exc))
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            return
        now = datetime.now(timezone.utc)
        for row_id, job_name, payload in rows:
            self._ids.add(row_id)
            key = attempt_key(job_name, payload)
            if key is None:
                self.dag_events += 1
            else:
                self.seen.setdefault(key, now)

    def _query(self) -> list[tuple[int, str, Any]]:
        if self._conn is None:
            self._conn = _connect(self.url)
        known = self._ids
        cursor = self._conn.cursor()
        cursor.execute(f"SELECT id FROM {TABLE} WHERE event_type = 'COMPLETE'")
        new = [row[0] for row in cursor.fetchall() if row[0] not in known]
        if not new:
            return []
        marks = ",".join(["?" if self.url.startswith("sqlite") else "%s"] * len(new))
        cursor.execute(f"SELECT id, job_name, payload FROM {TABLE} WHERE id IN ({marks})", new)
        return list(cursor.fetchall())


def _connect(url: str) -> Any:
    if url.startswith("sqlite:///"):
        # read-only: never create the file (or its tables) before the provider does
        conn = sqlite3.connect(f"file:{url[len('sqlite:///') :]}?mode=ro", uri=True, isolation_level=None)
        return conn
    import psycopg2

    conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://", 1), connect_timeout=10)
    conn.autocommit = True  # each SELECT sees what was committed since the last
    return conn


def attempt_key(job_name: str | None, payload: Any) -> str | None:
    """``run_id/task_id/try_number`` of a task event (None for a DAG run's own event)."""
    event = json.loads(payload) if isinstance(payload, str | bytes) else payload
    facets = (event.get("run") or {}).get("facets") or {}
    task = facets.get("airflowLineage_task") or {}
    if task.get("task_id") is not None:
        return f"{task.get('run_id')}/{task['task_id']}/{task.get('try_number')}"
    if job_name and "." in job_name:
        return f"?/{job_name.rsplit('.', 1)[1]}/?"
    return None


def latencies(seen: dict[str, datetime], ended: dict[str, datetime]) -> tuple[list[float], list[str]]:
    """Seconds from each task attempt's end to its COMPLETE being visible; the attempts never seen."""
    found, missing = [], []
    for key, end in ended.items():
        if key in seen:
            found.append((seen[key] - end).total_seconds())
        else:
            missing.append(key)
    return found, missing


def wait_until_seen(poller: Poller, keys: set[str], timeout: float) -> None:
    """Let the poller run until it has seen every key, or ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not keys <= set(poller.seen):
        time.sleep(poller.every)

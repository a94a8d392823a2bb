"""Builders of OpenLineage events for store tests (plain dicts, as producers send them)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

PRODUCER = "https://github.com/airflow-lineage-provider/tests"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def ds(name: str, namespace: str = "sqlite:///data/w.db", **facets: Any) -> dict[str, Any]:
    return {"namespace": namespace, "name": name, "facets": facets}


def run_event(
    event_type: str,
    job: str,
    run_id: str,
    *,
    minute: float = 0,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
    namespace: str = "airflow",
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": at(minute),
        "producer": PRODUCER,
        "schemaURL": SCHEMA,
        "run": {"runId": run_id, "facets": run_facets or {}},
        "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }


def new_run() -> str:
    return str(uuid.uuid4())


def etl_events() -> list[dict[str, Any]]:
    """raw_a, raw_b -> etl.clean -> clean -> etl.report -> report -> dash.read (a consumer job)."""
    events = []
    for job, ins, outs, minute in (
        ("etl.clean", ["raw_a", "raw_b"], ["clean"], 0),
        ("etl.report", ["clean"], ["report"], 10),
        ("dash.read", ["report"], [], 20),
    ):
        run_id = new_run()
        events.append(run_event("START", job, run_id, minute=minute, inputs=[ds(n) for n in ins]))
        events.append(
            run_event(
                "COMPLETE",
                job,
                run_id,
                minute=minute + 1,
                inputs=[ds(n) for n in ins],
                outputs=[ds(n) for n in outs],
            )
        )
    return events


def writer_run(writer: int, i: int) -> list[dict[str, Any]]:
    """Run ``i`` of concurrent writer ``writer``: START and COMPLETE, on datasets every writer shares."""
    run_id = new_run()
    shared = [ds("hub"), ds(f"in_{i % 7}")]
    return [
        run_event(
            event_type,
            f"job_{writer}_{i % 5}",
            run_id,
            minute=minute,
            inputs=shared,
            outputs=[ds(f"out_{writer}_{i}")],
        )
        for event_type, minute in (("START", i), ("COMPLETE", i + 0.5))
    ]

"""The in-memory emitter keeps events in order and hands them out as OpenLineage JSON."""

from __future__ import annotations

from airflow_lineage_provider.emit.base import Emitter
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.emit.conftest import run_event


def test_accumulates_events_in_order_as_openlineage_dicts() -> None:
    emitter = AccumulatingEmitter()
    first, second = run_event("a"), run_event("b")
    emitter.emit(first)
    emitter.emit(second)

    assert isinstance(emitter, Emitter)
    assert emitter.events == [first, second]
    assert [d["job"]["name"] for d in emitter.dicts()] == ["a", "b"]
    assert emitter.dicts()[0]["run"]["runId"] == first.run.runId

    emitter.clear()
    assert emitter.dicts() == []

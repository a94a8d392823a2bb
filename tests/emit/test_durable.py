"""Durable capture with the direct emitter and a real store: nothing is lost when the store is down,
slow or locked, nothing is stored twice on replay, and bad events are dead-lettered with a reason."""

from __future__ import annotations

import math
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider import LineageStore, conf
from airflow_lineage_provider.core.events import parse_event
from airflow_lineage_provider.emit.direct import DirectEmitter
from airflow_lineage_provider.emit.outbox import configured_outbox, outbox_status
from airflow_lineage_provider.emit.replay import replay
from tests.emit.logs import LineageLog
from tests.store.events import ds, new_run, run_event

DOWN = "postgresql+psycopg2://postgres@127.0.0.1:1/lineage"  # nothing listens on port 1


def _use(monkeypatch: pytest.MonkeyPatch, **options: str) -> None:
    for name, value in options.items():
        monkeypatch.setenv(f"AIRFLOW__LINEAGE_PROVIDER__{name.upper()}", value)
    conf.reload()


def _emit(events: list[Any]) -> None:
    emitter = DirectEmitter()
    try:
        for event in events:
            emitter.emit(event)
    finally:
        emitter.close()


def _stored(url: str) -> list[dict[str, Any]]:
    store = LineageStore.from_url(url)
    try:
        return list(store.events())
    finally:
        store.close()


def _age_outbox(seconds: float) -> None:
    """Let time pass for the pending events (automatic drains leave fresh ones to their own process)."""
    then = time.time() - seconds
    for path in configured_outbox().files():
        os.utime(path, (then, then))


def _events(count: int, job: str = "dag.task") -> list[dict[str, Any]]:
    return [run_event("COMPLETE", f"{job}{i}", new_run(), minute=i) for i in range(count)]


def test_events_wait_in_the_outbox_while_the_store_is_down_and_the_next_capture_delivers_them(
    store_url: str, monkeypatch: pytest.MonkeyPatch, lineage_log: LineageLog
) -> None:
    _use(monkeypatch, store_url=DOWN, emit_timeout="10")
    waiting = _events(3, "down")
    _emit(waiting)

    assert outbox_status()[0] == 3
    warnings = lineage_log.warnings()
    assert len(warnings) == 3 and all("kept in the outbox" in w for w in warnings)

    _age_outbox(60)
    _use(monkeypatch, store_url=store_url)
    later = _events(1, "up")
    _emit(later)

    stored = _stored(store_url)
    assert sorted(e["run"]["runId"] for e in stored) == sorted(e["run"]["runId"] for e in waiting + later)
    assert outbox_status() == (0, None)


def test_replaying_an_event_that_had_in_fact_arrived_stores_it_once(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, store_url=store_url)
    events = _events(2)
    _emit(events)
    outbox = configured_outbox()
    for event in events:  # as if the process died between delivery and removing the file
        outbox.put(parse_event(event).key, event)
    store = LineageStore.from_url(store_url)
    try:
        result = replay(store)
        again = replay(store)
    finally:
        store.close()

    assert result.delivered == 2 and result.remaining == 0 and again.delivered == 0
    assert len(_stored(store_url)) == 2


def test_a_locked_store_slower_than_the_budget_leaves_the_event_in_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lineage_log: LineageLog
) -> None:
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    created = LineageStore.from_url(url)
    created.upgrade()
    created.close()
    _use(monkeypatch, store_url=url, emit_timeout="1")
    blocker = sqlite3.connect(tmp_path / "lineage.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        _emit(_events(1, "locked"))
        assert outbox_status()[0] == 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert lineage_log.warnings()

    store = LineageStore.from_url(url)
    try:
        assert replay(store).delivered == 1
    finally:
        store.close()
    assert [e["job"]["name"] for e in _stored(url)] == ["locked0"]


def test_invalid_and_oversized_events_go_to_the_dead_letter_file_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lineage_log: LineageLog
) -> None:
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    _use(monkeypatch, store_url=url, max_event_bytes="4096")
    nan = run_event("COMPLETE", "nan", new_run(), run_facets={"metrics": {"loss": math.nan}})
    inf = run_event("COMPLETE", "inf", new_run(), outputs=[ds("t", stats={"rows": math.inf})])
    huge = run_event("COMPLETE", "huge", new_run(), job_facets={"sql": {"query": "SELECT 1 " * 2000}})
    fine = run_event("COMPLETE", "fine", new_run())

    _emit([nan, inf, huge, fine])

    assert [e["job"]["name"] for e in _stored(url)] == ["fine"]
    outbox = configured_outbox()
    assert outbox.status()[0] == 0
    dead = [line for line in outbox.dead_letter_file.read_text().splitlines()]
    assert len(dead) == 3
    assert "NaN and Infinity" in dead[0] and "run.facets.metrics.loss" in dead[0]
    assert "NaN and Infinity" in dead[1] and "outputs[0].facets.stats.rows" in dead[1]
    assert "max_event_bytes = 4096" in dead[2]
    assert len([w for w in lineage_log.warnings() if "event rejected" in w]) == 3


def test_names_with_bytes_that_are_not_utf8_are_kept_readable_instead_of_losing_the_event(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, store_url=store_url)
    name = b"/data/caf\xe9.csv".decode("utf-8", "surrogateescape")  # what os.fsdecode gives
    _emit([run_event("COMPLETE", "files", new_run(), outputs=[ds(name, namespace="file")])])

    (stored,) = _stored(store_url)
    assert stored["outputs"][0]["name"] == "/data/caf\\xe9.csv"
    store = LineageStore.from_url(store_url)
    try:
        graph = store.lineage("dataset:file:/data/caf\\xe9.csv", "upstream", 2)
    finally:
        store.close()
    assert "job:airflow:files" in graph.node_ids()

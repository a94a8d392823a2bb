"""Upgrading a store created and filled at the first released schema (0001) loses nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import create_engine, func, select

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.core.events import parse_event
from airflow_lineage_provider.store import schema
from airflow_lineage_provider.store.tables import Base
from airflow_lineage_provider.store.writes import GraphWriter, insert_raw
from tests.store.events import ds, etl_events, new_run, run_event

FIRST_RELEASE = "0001"


def _fill_at_first_release(url: str) -> list[dict]:
    """Write events as release 0.1.0 did: raw rows plus the graph, on a schema at revision 0001."""
    run = new_run()
    events = [
        *etl_events(),
        run_event("START", "extra", run, minute=50, inputs=[ds("orders")]),
        run_event("COMPLETE", "extra", run, minute=51, inputs=[ds("orders")], outputs=[ds("summary")]),
    ]
    engine = create_engine(url)
    try:
        assert schema.upgrade(engine, FIRST_RELEASE) == FIRST_RELEASE
        with engine.begin() as conn:
            parsed = [parse_event(e) for e in events]
            now = datetime(2026, 1, 1)
            insert_raw(conn, parsed, now)
            writer = GraphWriter(conn, now)
            for event in sorted(parsed, key=lambda e: e.event_time):
                writer.apply(event)
    finally:
        engine.dispose()
    return events


def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_upgrading_from_the_first_release_keeps_every_event_row_and_answer(store_url: str) -> None:
    events = _fill_at_first_release(store_url)
    before = _row_counts(store_url)
    assert before["lineage_events"] == len(events)

    store = LineageStore.from_url(store_url)
    try:
        assert store.revision() == FIRST_RELEASE
        assert store.upgrade() == schema.HEAD_REVISION
        after = _row_counts(store_url)
        stored = list(store.events())
        graph = store.lineage("dataset:sqlite:///data/w.db:summary", "upstream", depth=10)
        duplicate = store.record_many(events)  # what was there before counts as already stored
    finally:
        store.close()

    assert all(after[name] >= count for name, count in before.items()), (before, after)
    assert sorted(e["run"]["runId"] + e["eventType"] for e in stored) == sorted(
        e["run"]["runId"] + e["eventType"] for e in events
    )
    assert "job:airflow:extra" in graph.node_ids()
    assert "dataset:sqlite:///data/w.db:orders" in graph.node_ids()
    assert duplicate.stored == 0 and duplicate.duplicates == len(events)

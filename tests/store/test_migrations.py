"""Upgrading a store created and filled at the first released schema (0001) loses nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData, create_engine, func, inspect, select

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.store import schema
from airflow_lineage_provider.store.tables import Base
from tests.store.events import ds, etl_events, new_run, run_event

FIRST_RELEASE = "0001"


def _fill_at_first_release(url: str, tmp_path: Path) -> list[dict]:
    """A store at revision 0001 holding what release 0.1.0 wrote for these events: the rows of every
    0001 table, derived by today's writer into a scratch store and copied column by column (today's
    writer also writes tables and columns 0001 does not have, so it cannot write a 0001 store)."""
    run = new_run()
    events = [
        *etl_events(),
        run_event("START", "extra", run, minute=50, inputs=[ds("orders")]),
        run_event("COMPLETE", "extra", run, minute=51, inputs=[ds("orders")], outputs=[ds("summary")]),
    ]
    scratch = LineageStore.from_url(f"sqlite:///{tmp_path / 'scratch.db'}")
    scratch.record_many(events)
    scratch.close()
    source = create_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    engine = create_engine(url)
    try:
        assert schema.upgrade(engine, FIRST_RELEASE) == FIRST_RELEASE
        old = MetaData()
        with engine.begin() as conn:
            old.reflect(conn)
            with source.connect() as reader:
                for table in old.sorted_tables:
                    if table.name == schema.VERSION_TABLE:
                        continue
                    rows = [dict(r) for r in reader.execute(select(*table.c)).mappings()]
                    if rows:
                        conn.execute(table.insert(), rows)
    finally:
        source.dispose()
        engine.dispose()
    return events


def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
                for table in Base.metadata.sorted_tables
                if table.name in present
            }
    finally:
        engine.dispose()


def test_upgrading_from_the_first_release_keeps_every_event_row_and_answer(
    store_url: str, tmp_path: Path
) -> None:
    events = _fill_at_first_release(store_url, tmp_path)
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

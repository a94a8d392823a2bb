"""Upgrading a store created and filled at the first released schema (0001) loses nothing.

``fixtures/release-0.1.0.json`` holds every row that release 0.1.0's own code (commit 764f97f) wrote
for the events in it, so the test does not depend on how today's code writes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, func, select, text

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.store import schema
from airflow_lineage_provider.store.tables import Base
from tests.store.events import ds, new_run, run_event

FIRST_RELEASE = "0001"
RELEASE_ROWS = Path(__file__).parent / "fixtures" / "release-0.1.0.json"


def _restore(engine: Engine, dump: dict[str, list[dict[str, Any]]]) -> None:
    """Insert the dumped rows into the tables as revision 0001 created them."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if table.name == schema.VERSION_TABLE or not dump.get(table.name):
                continue
            times = {c.name for c in table.columns if isinstance(c.type, DateTime)}
            rows = [
                {k: datetime.fromisoformat(v) if k in times and v else v for k, v in row.items()}
                for row in dump[table.name]
            ]
            conn.execute(table.insert(), rows)
            if engine.dialect.name == "postgresql" and "id" in table.columns:  # as if ids were generated
                sequence = f"pg_get_serial_sequence('{table.name}', 'id')"
                conn.execute(text(f"SELECT setval({sequence}, MAX(id)) FROM {table.name}"))


def _fill_at_first_release(url: str) -> list[dict[str, Any]]:
    dump = json.loads(RELEASE_ROWS.read_text(encoding="utf-8"))
    engine = create_engine(url)
    try:
        assert schema.upgrade(engine, FIRST_RELEASE) == FIRST_RELEASE
        _restore(engine, dump)
    finally:
        engine.dispose()
    return [row["payload"] for row in dump["lineage_events"]]


def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)
                for table in Base.metadata.sorted_tables
                if table.name != "lineage_chain_head" and engine.dialect.has_table(conn, table.name)
            }
    finally:
        engine.dispose()


def test_upgrading_from_the_first_release_keeps_every_event_row_and_answer(store_url: str) -> None:
    events = _fill_at_first_release(store_url)
    before = _row_counts(store_url)
    assert before["lineage_events"] == len(events) == 8

    store = LineageStore.from_url(store_url)
    try:
        assert store.revision() == FIRST_RELEASE
        assert store.upgrade() == schema.HEAD_REVISION
        after = _row_counts(store_url)
        stored = list(store.events())
        graph = store.lineage("dataset:sqlite:///data/w.db:summary", "upstream", depth=10)
        duplicate = store.record_many(events)  # what was there before counts as already stored
        run = new_run()
        new = store.record(run_event("COMPLETE", "later", run, minute=90, inputs=[ds("summary")]))
        verified = store.verify()
        report = store.lineage("dataset:sqlite:///data/w.db:report", "upstream", depth=10)
        downstream = store.lineage("dataset:sqlite:///data/w.db:orders", "downstream", depth=10)
    finally:
        store.close()

    assert all(after[name] >= count for name, count in before.items()), (before, after)
    assert sorted(e["run"]["runId"] + e["eventType"] for e in stored) == sorted(
        e["run"]["runId"] + e["eventType"] for e in events
    )
    assert {"job:airflow:extra", "dataset:sqlite:///data/w.db:orders"} <= set(graph.node_ids())
    assert "dataset:sqlite:///data/w.db:raw_a" in report.node_ids()
    assert duplicate.stored == 0 and duplicate.duplicates == len(events)
    assert new and verified.ok and verified.checked == len(events) + 1, verified
    assert "job:airflow:later" in downstream.node_ids()  # the upgraded graph takes new events

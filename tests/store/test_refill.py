"""Upgrading a store from before revision 0004 fills declared lineage, assertions and tags from the
events it already held, as ingest derives them, and skips (and counts) stored events it cannot read."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from alembic import command
from sqlalchemy import create_engine, delete, insert

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.store import refill, schema
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.graphstate import node_key
from tests.store.events import PRODUCER, SCHEMA, ds, new_run, run_event
from tests.store.test_assertions import _assertions
from tests.store.test_declared import WH, _dataset_event, _job_event, _vector

TAGS = "https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet"
ENRICHED = f"dataset:{WH}:public.enriched_orders"
VIEW = f"dataset:{WH}:public.customer_view"
ORDERS, SUMS = "dataset:sqlite:///data/w.db:orders", "dataset:sqlite:///data/w.db:sums"


def _tags(key: str, value: str) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": TAGS, "tags": [{"key": key, "value": value}]}


def _fill(store: LineageStore) -> None:
    """Declarations on a job and a dataset event; a run reading ``orders`` (tagged, with a failing
    check on it) and writing ``sums`` (tagged) at its COMPLETE."""
    store.record(_job_event("daily.enrich", _vector("mixed-sources")))
    store.record(_dataset_event("public.customer_view", _vector("dataset-to-dataset")))
    run_id = new_run()
    read = ds("orders", tags=_tags("pii", "email"))
    read["inputFacets"] = {"dataQualityAssertions": _assertions(("not_null", True), ("unique", False))}
    store.record(run_event("START", "etl.check", run_id, inputs=[read]))
    store.record(
        run_event("COMPLETE", "etl.check", run_id, minute=1, outputs=[ds("sums", tags=_tags("tier", "gold"))])
    )


def _answers(store: LineageStore) -> dict[str, Any]:
    def edges(node: str) -> set[tuple[str, str, bool]]:
        return {(e.source, e.target, e.declared) for e in store.lineage(node, "upstream", depth=2).edges}

    orders = store.describe(ORDERS)
    return {
        "enriched": edges(ENRICHED),
        "view": store.describe(VIEW)["declaredInputs"],
        "assertions": [(a["failing"], a["total"]) for a in orders["assertions"]],
        "state": store.lineage(ORDERS, "downstream", depth=0).nodes[0].data.get("assertions"),
        "pii": [str(n.id) for n in store.search("email")],
        "gold": [str(n.id) for n in store.search("gold")],
        "tags": orders["tags"],
    }


def _back_to_0003(url: str, forget: tuple[str, str, str]) -> None:
    """Downgrade to 0003 (dropping the three tables), forget a node only a declaration named (a store
    at 0003 never created it), and add two stored events no ingest can read."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.downgrade(schema._alembic_config(conn), "0003")  # type: ignore[arg-type]
            conn.execute(delete(t.Node).where(t.Node.node_key == node_key(*forget)))
            now = datetime(2026, 1, 2)
            bad_run = {"eventType": "COMPLETE", "eventTime": "2026-01-01T00:05:00Z", "producer": PRODUCER}
            bad_run.update(schemaURL=SCHEMA, run={"runId": "not-a-uuid"}, job={"namespace": "a", "name": "b"})
            for key, payload in (("bad-1", [1, 2]), ("bad-2", bad_run)):
                conn.execute(
                    insert(t.Event).values(
                        event_key=key, kind="run", event_time=now, payload=payload, received_at=now
                    )
                )
    finally:
        engine.dispose()


def test_upgrading_from_0003_fills_declared_lineage_assertions_and_tags_as_ingest_does(
    store_url, caplog, monkeypatch
):
    monkeypatch.setattr(refill, "_CHUNK", 2)  # events are read in several pages, as in a large store
    store = LineageStore.from_url(store_url)
    try:
        _fill(store)
        ingested = _answers(store)
    finally:
        store.close()
    job = "job:airflow://production:daily.enrichment"
    assert (job, ENRICHED, True) in ingested["enriched"] and ingested["view"][0]["columns"]
    assert ingested["assertions"] == [(1, 2)] and ingested["state"]["failing"] == 1
    assert ingested["pii"] == [ORDERS] and ingested["gold"] == [SUMS]
    _back_to_0003(store_url, ("job", "airflow://production", "daily.enrichment"))

    store = LineageStore.from_url(store_url)
    try:
        assert store.revision() == "0003"
        with caplog.at_level(logging.INFO, logger="airflow_lineage_provider.store.refill"):
            assert store.upgrade() == schema.HEAD_REVISION
        upgraded = _answers(store)
        again = store.upgrade()  # at head: nothing is refilled twice
        assert _answers(store) == upgraded
    finally:
        store.close()

    assert upgraded == ingested
    assert again == schema.HEAD_REVISION
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2 stored events skipped" in warnings[0], warnings
    assert "(4 read)" in warnings[0] and "not-a-uuid" in warnings[0]

"""Retention (prune) keeps what the graph needs; erase removes a dataset's facets but keeps a tombstone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_lineage_provider.exceptions import InvalidQueryError, NodeNotFoundError
from airflow_lineage_provider.store.retention import ERASED_FACET
from tests.store.events import T0, ds, new_run, run_event

ORDERS = "dataset:sqlite:///data/w.db:orders"
NINETY_DAYS = timedelta(days=90)


def _recent_minute() -> float:
    """An hour ago, in the minutes-after-T0 the event builders use."""
    return (datetime.now(timezone.utc) - T0).total_seconds() / 60 - 60


@pytest.fixture
def history(store) -> dict[str, str]:
    """etl wrote orders three times (two long ago), report read it once long ago, consume reads it now."""
    runs = {name: new_run() for name in ("etl0", "etl1", "report", "etl2", "consume")}
    orders = ds("orders")
    store.record(run_event("COMPLETE", "etl", runs["etl0"], minute=0, outputs=[orders]))
    store.record(run_event("COMPLETE", "etl", runs["etl1"], minute=10, outputs=[orders]))
    store.record(run_event("COMPLETE", "report", runs["report"], minute=20, inputs=[orders]))
    store.record(run_event("COMPLETE", "etl", runs["etl2"], minute=30, outputs=[orders]))
    store.record(run_event("COMPLETE", "consume", runs["consume"], minute=_recent_minute(), inputs=[orders]))
    return runs


def _versions(store) -> set[str | None]:
    return {v["runId"] for v in store.describe(ORDERS)["versions"]}


def test_a_dry_run_reports_what_would_go_and_changes_nothing(store, history) -> None:
    report = store.prune(NINETY_DAYS, dry_run=True)

    assert sorted(report.run_ids) == sorted([history["etl0"], history["etl1"]])
    assert (report.runs, report.events, report.run_io, report.versions) == (2, 2, 2, 1)
    assert report.kept_latest == 2  # etl2 and report are old but the latest of their job
    assert len(list(store.events())) == 5
    assert _versions(store) == {history["etl0"], history["etl1"], history["etl2"]}


def test_prune_removes_old_runs_but_keeps_latest_runs_and_the_versions_kept_runs_read(store, history) -> None:
    before = store.lineage(ORDERS, "both", depth=4)

    report = store.prune(NINETY_DAYS)

    assert report.runs == 2
    remaining = {e["run"]["runId"] for e in store.events()}
    assert remaining == {history["report"], history["etl2"], history["consume"]}
    # etl0's version went; etl1's stays because the kept report run read it; etl2's is current.
    assert _versions(store) == {history["etl1"], history["etl2"]}
    for name in ("report", "etl2", "consume"):
        assert store.describe(f"run:{history[name]}")["runId"] == history[name]
    with pytest.raises(NodeNotFoundError):
        store.describe(f"run:{history['etl0']}")
    after = store.lineage(ORDERS, "both", depth=4)
    assert after.node_ids() == before.node_ids()  # the graph stays connected
    assert store.prune(NINETY_DAYS).runs == 0  # a second prune has nothing left to do


def test_prune_needs_a_positive_age(store) -> None:
    with pytest.raises(InvalidQueryError, match="positive"):
        store.prune(timedelta(0))


def test_erase_removes_a_datasets_facets_everywhere_and_leaves_a_connected_tombstone(store) -> None:
    schema = {"fields": [{"name": "email", "type": "TEXT"}]}
    customers = ds("customers", schema=schema, ownership={"owners": [{"name": "crm"}]})
    store.record(run_event("COMPLETE", "build", new_run(), inputs=[customers], outputs=[ds("orders")]))
    store.record(run_event("COMPLETE", "load", new_run(), minute=1, outputs=[customers]))

    result = store.erase("dataset:sqlite:///data/w.db:customers", reason="GDPR request 42")

    assert result["events"] == 2 and result["versions"] == 1
    details = store.describe("dataset:sqlite:///data/w.db:customers")
    assert set(details["facets"]) == {ERASED_FACET}
    assert details["facets"][ERASED_FACET]["reason"] == "GDPR request 42"
    assert details["fields"] == []
    raw = list(store.events())
    mentions = [d for e in raw for d in e["inputs"] + e["outputs"] if d["name"] == "customers"]
    assert len(mentions) == 2 and all(not d.get("facets") for d in mentions)
    upstream = store.lineage(ORDERS, "upstream", depth=4)
    assert {"dataset:sqlite:///data/w.db:customers", "job:airflow:build", "job:airflow:load"} <= (
        upstream.node_ids()
    )


def test_only_datasets_can_be_erased(store) -> None:
    store.record(run_event("COMPLETE", "build", new_run(), outputs=[ds("orders")]))

    with pytest.raises(InvalidQueryError, match="only datasets"):
        store.erase("job:airflow:build")

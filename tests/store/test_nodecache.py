"""A long-lived LineageStore keeps the node rows of its batches for the next one (store.nodecache).
They must never be used once another writer changed the nodes: another store appending (the chain
head moved), a prune or an erase elsewhere, or an erase that moved no head at all."""

from __future__ import annotations

from datetime import timedelta

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.store.retention import ERASED_FACET
from tests.store.events import ds, new_run, run_event

X = "dataset:sqlite:///data/w.db:x"


def _facets(store: LineageStore) -> dict[str, object]:
    return dict(store.describe(X)["facets"])


def _writes_x(job: str, minute: float, **facets: object) -> list[dict[str, object]]:
    run_id = new_run()
    return [
        run_event("START", job, run_id, minute=minute),
        run_event("COMPLETE", job, run_id, minute=minute + 1, outputs=[ds("x", **facets)]),
    ]


def test_another_writers_newer_version_stays_current_though_its_row_kept_its_updated_at(store_url):
    """A version written without facets changes no ``updated_at``: only the moved chain head tells
    the first store that its kept row of x is stale."""
    first, second = LineageStore.from_url(store_url), LineageStore.from_url(store_url)
    first.record_many(_writes_x("a", 0, owner={"name": "one"}))  # first keeps x's row
    second.record_many(_writes_x("b", 30))  # x's current version, written at minute 31

    first.record_many(_writes_x("a", 10, size={"rows": 3}))  # older than second's: not current

    described = first.describe(X)
    assert described["currentVersion"] == described["versions"][0]["version"]
    assert described["versions"][0]["createdAt"].startswith("2026-01-01T00:31")
    first.close()
    second.close()


def test_another_writers_facets_are_merged_not_overwritten_by_kept_rows(store_url):
    first, second = LineageStore.from_url(store_url), LineageStore.from_url(store_url)
    first.record_many(_writes_x("a", 0, owner={"name": "one"}))  # first keeps x's row
    second.record_many(_writes_x("b", 10, quality={"score": 2}))  # the chain head moves past first's

    first.record_many(_writes_x("a", 20, size={"rows": 3}))

    assert set(_facets(first)) == {"owner", "quality", "size"}
    first.close()
    second.close()


def test_an_erase_elsewhere_that_moved_no_chain_head_is_not_undone(store_url):
    """x's facets come from a run that a prune removed; a later run only reads x (no facets), so the
    erase finds no stored event to scrub and reseals nothing: only x's ``updated_at`` changed."""
    writer, admin = LineageStore.from_url(store_url), LineageStore.from_url(store_url)
    writer.record_many(_writes_x("old", 0, owner={"name": "one"}))
    writer.record_many(_writes_x("old", 5))  # the job's latest run: kept by the prune
    admin.prune(timedelta(days=1))
    reader = new_run()
    writer.record(run_event("START", "reader", reader, minute=30, inputs=[ds("x")]))  # writer keeps x
    assert admin.erase(X)["events"] == 0

    tags = {"tags": [{"key": "team", "value": "data"}]}  # an input's tags join its dataset's facets
    writer.record(run_event("COMPLETE", "reader", reader, minute=31, inputs=[ds("x", tags=tags)]))

    assert set(_facets(writer)) == {ERASED_FACET, "tags"}
    writer.close()
    admin.close()


def test_an_erase_by_the_same_store_is_not_undone_by_its_kept_rows(store):
    store.record_many(_writes_x("a", 0, owner={"name": "one"}))
    store.erase(X)

    store.record_many(_writes_x("a", 10, size={"rows": 3}))

    assert set(_facets(store)) == {ERASED_FACET, "size"}


def test_the_cache_is_bounded_and_forgets_rows_of_another_head():
    from airflow_lineage_provider.store.nodecache import NodeCache

    cache = NodeCache(limit=2)
    head = (3, "h3")
    cache.keep(head, [{"node_key": k} for k in "abc"])
    assert set(cache.take(head, "abcd")) == {"a", "b", "c"}

    cache.keep(head, [{"node_key": "d"}])  # over the limit: starts again with this commit's rows
    assert set(cache.take(head, "abcd")) == {"d"}
    assert cache.take((4, "h4"), "abcd") == {} and len(cache) == 0

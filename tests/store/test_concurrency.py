"""Several processes writing at once: every event stored exactly once, no lock error escapes."""

from __future__ import annotations

import multiprocessing

from tests.store.events import writer_run

WRITERS = 4
RUNS_PER_WRITER = 60


def _write(args: tuple[str, int]) -> int:
    from airflow_lineage_provider import LineageStore

    url, writer = args
    store = LineageStore.from_url(url)
    stored = 0
    for i in range(RUNS_PER_WRITER):
        stored += sum(store.record(event) for event in writer_run(writer, i))
    store.close()
    return stored


def test_concurrent_writers_store_every_event_exactly_once(store, store_url):
    store.upgrade()
    with multiprocessing.get_context("spawn").Pool(WRITERS) as pool:
        counts = pool.map(_write, [(store_url, w) for w in range(WRITERS)])
    expected = WRITERS * RUNS_PER_WRITER * 2
    assert sum(counts) == expected
    assert len(list(store.events())) == expected
    hub = store.describe("dataset:sqlite:///data/w.db:hub")
    assert len(hub["consumers"]) == WRITERS * 5
    chained = store.verify()  # one chain, though four processes appended to it at once
    assert chained.ok and chained.checked == expected

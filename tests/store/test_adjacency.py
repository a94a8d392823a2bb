"""The in-memory adjacency index answers exactly as the SQL walk does, and keeps up with the store.

Two stores share one database: one walks in SQL, the other keeps the index. Every answer of the one is
compared with the other's on seeded random graphs (cycles, self-loops, declared lineage, several DAGs),
from several roots, both directions, several depths, limits, ``as_of`` times and restricted readers;
again after more events (caught up from ``seq``, no rebuild), after erase and prune, and after a row
deletion (a rebuild)."""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.store import reads
from airflow_lineage_provider.store.visibility import Scope
from tests.store.events import PRODUCER, at, ds, new_run, run_event

LINEAGE = "https://openlineage.io/spec/facets/1-0-0/LineageFacet.json"
NS = "sqlite:///data/w.db"
TABLES = [f"t{i:02d}" for i in range(25)]
SCOPES = [None, Scope("airflow", frozenset({"dag_a"})), Scope("airflow", frozenset({"dag_a", "dag_b"}))]


def _declaring(name: str, sources: list[str]) -> dict[str, Any]:
    inputs = [{"namespace": NS, "name": s, "type": "DATASET"} for s in sources]
    return ds(name, lineage={"_producer": PRODUCER, "_schemaURL": LINEAGE, "inputs": inputs})


def _events(rng: random.Random, jobs: range, minute: float) -> list[dict[str, Any]]:
    """Random jobs of three DAGs reading and writing the tables; some outputs declare lineage."""
    events = []
    for job in jobs:
        ins = rng.sample(TABLES, rng.randint(1, 4))
        outs = [
            _declaring(x, rng.sample(TABLES, 2)) if rng.random() < 0.2 else ds(x)
            for x in rng.sample(TABLES, rng.randint(1, 2))
        ]
        name = f"{('dag_a', 'dag_b', 'dag_c')[job % 3]}.j{job:02d}"
        inputs = [ds(x) for x in ins]
        events.append(
            run_event("COMPLETE", name, new_run(), minute=minute + job, inputs=inputs, outputs=outs)
        )
    return events


@pytest.fixture
def stores(store_url: str) -> Iterator[tuple[LineageStore, LineageStore]]:
    plain = LineageStore.from_url(store_url)
    indexed = LineageStore.from_url(store_url, adjacency_index=100_000)
    yield plain, indexed
    indexed.close()
    plain.close()


def _roots(rng: random.Random) -> list[str]:
    return [f"dataset:{NS}:{t}" for t in rng.sample(TABLES, 2)] + ["job:airflow:dag_a.j03"]


def _same_answers(plain: LineageStore, indexed: LineageStore, rng: random.Random) -> int:
    """Compare every answer; return how many were compared."""
    compared = 0
    for root in _roots(rng):
        for direction in ("upstream", "downstream", "both"):
            for depth in (2, 20):
                for kwargs in ({}, {"limit": 4}, {"as_of": at(12)}, {"declared": False}):
                    compared += _compare(plain, indexed, root, direction, depth, kwargs)
    for direction in ("upstream", "downstream"):  # restricted readers (slow in SQL: a few)
        kwargs = {"scope": rng.choice(SCOPES[1:]), "limit": rng.choice([None, 4])}
        compared += _compare(plain, indexed, _roots(rng)[0], direction, 20, kwargs)
    return compared


def _compare(
    plain: LineageStore, indexed: LineageStore, root: str, direction: str, depth: int, kwargs: Any
) -> int:
    expected = plain.lineage(root, direction, depth, **kwargs)  # type: ignore[arg-type]
    answer = indexed.lineage(root, direction, depth, **kwargs)  # type: ignore[arg-type]
    assert answer == expected, (root, direction, depth, kwargs)
    return 1


def _same_walks(plain: LineageStore, indexed: LineageStore) -> None:
    """``reads.walk`` (what other reads build on) gives the same nodes and edge rows either way."""
    for store_ in (plain, indexed):
        with store_.database.connect(write=False) as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM lineage_nodes ORDER BY id"))]
    results = []
    for store_ in (plain, indexed):
        with store_.database.connect(write=False) as conn:
            results.append(
                [
                    reads.walk(conn, {seed: 0}, up, 20, None, limit, scope, True)
                    for seed in ids[:: max(1, len(ids) // 6)]
                    for up in (True, False)
                    for limit, scope in ((None, None), (5, None))
                ]
                + [reads.walk(conn, {ids[0]: 0}, False, 20, None, None, SCOPES[2], True)]
            )
    assert results[0] == results[1]


@pytest.mark.parametrize("seed", [1])
def test_the_index_answers_as_the_sql_walk_and_keeps_up_with_the_store(stores, seed):
    plain, indexed = stores
    rng = random.Random(seed)
    plain.record_many(_events(rng, range(20), minute=0))

    assert _same_answers(plain, indexed, rng) > 50
    _same_walks(plain, indexed)
    assert indexed.adjacency_stats()["builds"] == 1
    assert plain.adjacency_stats() is None

    plain.record_many(_events(rng, range(20, 35), minute=30))  # new edges, later last_seen, declarations
    _same_answers(plain, indexed, rng)
    _same_walks(plain, indexed)
    stats = indexed.adjacency_stats()
    assert stats["builds"] == 1, "caught up from seq, not built again"
    with plain.database.connect(write=False) as conn:
        edges = conn.execute(text("SELECT count(*) FROM lineage_edges")).scalar()
    assert stats["edges"] == edges and stats["bytesPerEdge"] > 0

    plain.erase(f"dataset:{NS}:t05")
    plain.prune(older_than=__import__("datetime").timedelta(days=1))
    _same_answers(plain, indexed, rng)

    with plain.database.connect(write=True) as conn:  # the store never deletes edges; someone might
        conn.execute(text("DELETE FROM lineage_edges WHERE src IN (SELECT min(src) FROM lineage_edges)"))
        conn.execute(
            text("DELETE FROM lineage_declared_edges WHERE src IN (SELECT min(src) FROM lineage_edges)")
        )
    _same_answers(plain, indexed, rng)
    _same_walks(plain, indexed)
    assert indexed.adjacency_stats()["builds"] == 2, "a deletion builds the index again"


def test_every_edge_gets_a_new_seq_when_inserted_or_when_its_times_change(store_url):
    store = LineageStore.from_url(store_url)
    try:
        first = new_run()
        store.record(
            run_event("COMPLETE", "dag_a.load", first, minute=1, inputs=[ds("a")], outputs=[ds("b")])
        )
        with store.database.connect(write=False) as conn:
            before = dict(conn.execute(text("SELECT dst, seq FROM lineage_edges")).all())
        store.record(run_event("COMPLETE", "dag_a.load", new_run(), minute=5, inputs=[ds("a")]))
        store.record(
            run_event("COMPLETE", "dag_a.load", first, minute=1, inputs=[ds("a")], outputs=[ds("b")])
        )
        with store.database.connect(write=False) as conn:
            after = dict(conn.execute(text("SELECT dst, seq FROM lineage_edges")).all())
    finally:
        store.close()
    assert None not in before.values() and len(set(before.values())) == 2
    moved = [dst for dst in after if after[dst] != before[dst]]
    assert len(moved) == 1  # the input edge's last_seen moved; the output edge, seen again as before, did not
    assert after[moved[0]] > max(before.values())


@contextlib.contextmanager
def _pair(store_url: str, max_edges: int, seed: int) -> Iterator[tuple[LineageStore, LineageStore, str]]:
    """A plain store and one keeping an index of at most ``max_edges``, on random events; a root."""
    plain = LineageStore.from_url(store_url)
    other = LineageStore.from_url(store_url, adjacency_index=max_edges)
    try:
        plain.record_many(_events(random.Random(seed), range(10), minute=0))
        yield plain, other, plain.search("t", kind="dataset")[0].id
    finally:
        other.close()
        plain.close()


def test_a_store_larger_than_max_edges_is_walked_in_sql(store_url):
    with _pair(store_url, 3, seed=3) as (plain, small, root):
        assert small.lineage(root, "both", 20) == plain.lineage(root, "both", 20)
        assert small.adjacency_stats()["enabled"] is False


def test_a_store_warmed_in_the_background_answers_the_same_before_and_after_the_build(store_url):
    with _pair(store_url, 100_000, seed=4) as (plain, warmed, root):
        warmed.warm_adjacency()
        during = warmed.lineage(root, "both", 20)  # in SQL or from the index, whichever is ready
        for thread in threading.enumerate():
            if thread.name == "lineage-adjacency":
                thread.join()
        assert warmed.adjacency_stats()["builds"] == 1
        assert during == warmed.lineage(root, "both", 20) == plain.lineage(root, "both", 20)

from __future__ import annotations

import pytest

from airflow_lineage_provider.exceptions import InvalidNodeIdError, InvalidQueryError, NodeNotFoundError
from tests.store.events import ds, etl_events, new_run, run_event

REPORT = "dataset:sqlite:///data/w.db:report"
RAW_A = "dataset:sqlite:///data/w.db:raw_a"


@pytest.fixture
def etl(store):
    store.record_many(etl_events())
    return store


def test_upstream_of_the_report_reaches_the_raw_tables_through_the_jobs(etl):
    graph = etl.lineage(REPORT, "upstream", 5)
    assert graph.node_ids() == {
        REPORT,
        "job:airflow:etl.report",
        "dataset:sqlite:///data/w.db:clean",
        "job:airflow:etl.clean",
        RAW_A,
        "dataset:sqlite:///data/w.db:raw_b",
    }
    assert graph.node(RAW_A).depth == 4
    edges = {(e.source, e.target, e.type) for e in graph.edges}
    assert (RAW_A, "job:airflow:etl.clean", "input") in edges
    assert ("job:airflow:etl.report", REPORT, "output") in edges
    assert "job:airflow:dash.read" not in graph.node_ids()


def test_downstream_of_a_raw_table_reaches_the_report_and_its_consumer(etl):
    graph = etl.lineage(RAW_A, "downstream", 20)
    assert {REPORT, "job:airflow:dash.read"} <= graph.node_ids()
    assert "dataset:sqlite:///data/w.db:raw_b" not in graph.node_ids()


def test_depth_counts_hops_dataset_job_dataset_is_two(etl):
    assert etl.lineage(REPORT, "upstream", 0).node_ids() == {REPORT}
    assert etl.lineage(REPORT, "upstream", 1).node_ids() == {REPORT, "job:airflow:etl.report"}
    two = etl.lineage(REPORT, "upstream", 2).node_ids()
    assert "dataset:sqlite:///data/w.db:clean" in two and "job:airflow:etl.clean" not in two


def test_both_directions_from_a_job(etl):
    graph = etl.lineage("job:airflow:etl.report", "both", 2)
    assert graph.node_ids() == {
        "job:airflow:etl.report",
        "dataset:sqlite:///data/w.db:clean",
        "job:airflow:etl.clean",
        REPORT,
        "job:airflow:dash.read",
    }


def test_a_job_reading_and_writing_the_same_table_does_not_loop(store):
    run_id = new_run()
    store.record(run_event("COMPLETE", "dedupe", run_id, inputs=[ds("t")], outputs=[ds("t")]))
    graph = store.lineage("dataset:sqlite:///data/w.db:t", "both", 100)
    assert graph.node_ids() == {"dataset:sqlite:///data/w.db:t", "job:airflow:dedupe"}


def test_limit_returns_the_nearest_nodes_and_flags_the_answer_partial(etl):
    graph = etl.lineage(REPORT, "upstream", 20, limit=3)
    assert graph.is_partial
    assert [n.depth for n in graph.nodes] == [0, 1, 2]
    assert not etl.lineage(REPORT, "upstream", 20, limit=50).is_partial


def test_as_of_a_time_before_a_job_existed_hides_its_edges(store):
    store.record(run_event("COMPLETE", "old", new_run(), minute=0, inputs=[ds("src")], outputs=[ds("tgt")]))
    late_run = new_run()
    store.record(run_event("COMPLETE", "new", late_run, minute=60, inputs=[ds("other")], outputs=[ds("tgt")]))
    target = "dataset:sqlite:///data/w.db:tgt"
    now = store.lineage(target, "upstream", 2).node_ids()
    assert {"job:airflow:old", "job:airflow:new"} <= now
    then = store.lineage(target, "upstream", 2, as_of="2026-01-01T00:30:00+00:00").node_ids()
    assert "job:airflow:old" in then and "job:airflow:new" not in then
    by_run = store.lineage(target, "upstream", 2, as_of=f"run:{late_run}").node_ids()
    assert "job:airflow:new" in by_run


def test_lineage_from_a_run_node_shows_what_that_run_read_and_wrote(etl):
    clean_run = etl.describe("job:airflow:etl.clean")["latestRuns"][0]["runId"]
    graph = etl.lineage(f"run:{clean_run}", "both", 1)
    edges = {(e.source, e.target) for e in graph.edges}
    assert (RAW_A, f"run:{clean_run}") in edges
    assert (f"run:{clean_run}", "dataset:sqlite:///data/w.db:clean") in edges


def test_unknown_nodes_are_not_found_with_suggestions(etl):
    with pytest.raises(NodeNotFoundError) as info:
        etl.lineage("dataset:sqlite:///data/w.db:reports", "upstream", 2)
    assert REPORT in info.value.suggestions
    assert "did you mean" in str(info.value)
    with pytest.raises(NodeNotFoundError):
        etl.lineage(f"run:{new_run()}", "upstream", 2)


@pytest.mark.parametrize("bad", ["", "table:x:y", "dataset:onlynamespace", "run:123"])
def test_malformed_node_ids_are_rejected(etl, bad):
    with pytest.raises(InvalidNodeIdError):
        etl.lineage(bad, "upstream", 2)


@pytest.mark.parametrize(
    "kwargs", [{"depth": -1}, {"depth": 101}, {"direction": "sideways"}, {"limit": 0}, {"as_of": "whenever"}]
)
def test_out_of_range_query_arguments_are_rejected(etl, kwargs):
    with pytest.raises(InvalidQueryError):
        etl.lineage(REPORT, **{"direction": "upstream", "depth": 2, **kwargs})


def test_namespaces_with_colons_and_ports_resolve(store):
    ns = "postgres://db.example.com:5432"
    store.record(
        run_event(
            "COMPLETE",
            "pg.job",
            new_run(),
            inputs=[ds("shop.public.a", ns)],
            outputs=[ds("shop.public.b:v2", ns)],
        )
    )
    graph = store.lineage(f"dataset:{ns}:shop.public.b:v2", "upstream", 2)
    assert f"dataset:{ns}:shop.public.a" in graph.node_ids()


def test_search_finds_nodes_by_partial_name_case_insensitively(etl):
    assert [n.id for n in etl.search("REPO")][:1] == [REPORT]
    assert {n.id for n in etl.search("etl.", kind="job")} == {
        "job:airflow:etl.clean",
        "job:airflow:etl.report",
    }


def _random_world(seed: int) -> tuple[list[dict], set[tuple[str, str]]]:
    """Seeded random jobs over 25 tables (cycles, self-loops and fan-in included), and their edges."""
    import random

    rng = random.Random(seed)
    tables = [f"t{i:02d}" for i in range(25)]
    events, edges = [], set()
    for job in range(30):
        ins = rng.sample(tables, rng.randint(1, 4))
        outs = rng.sample(tables, rng.randint(1, 2))
        events.append(
            run_event(
                "COMPLETE",
                f"j{job:02d}",
                new_run(),
                inputs=[ds(x) for x in ins],
                outputs=[ds(x) for x in outs],
            )
        )
        name = f"job:airflow:j{job:02d}"
        edges |= {(f"dataset:sqlite:///data/w.db:{x}", name) for x in ins}
        edges |= {(name, f"dataset:sqlite:///data/w.db:{x}") for x in outs}
    return events, edges


def _reference(edges: set[tuple[str, str]], root: str, direction: str, depth: int) -> dict[str, int]:
    """Smallest hop count of every node within ``depth`` of ``root``: a plain BFS over all edges."""
    found = {}
    for upstream in (True, False):
        if direction not in ("both", "upstream" if upstream else "downstream"):
            continue
        seen, frontier = {root: 0}, [root]
        for level in range(1, depth + 1):
            frontier = sorted(
                {s if upstream else d for s, d in edges if (d if upstream else s) in frontier} - set(seen)
            )
            seen.update((n, level) for n in frontier)
        for node, d in seen.items():
            found[node] = min(d, found.get(node, d))
    return found


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_walks_match_a_reference_bfs_on_random_graphs(store, seed):
    events, edges = _random_world(seed)
    store.record_many(events)
    roots = ["dataset:sqlite:///data/w.db:t00", "dataset:sqlite:///data/w.db:t13", "job:airflow:j07"]
    for root in roots:
        for direction in ("upstream", "downstream", "both"):
            for depth in (1, 2, 3, 6, 20):
                expected = _reference(edges, root, direction, depth)
                graph = store.lineage(root, direction, depth)
                assert {n.id: n.depth for n in graph.nodes} == expected, (root, direction, depth)
                among = {(s, d) for s, d in edges if s in expected and d in expected}
                assert {(e.source, e.target) for e in graph.edges} == among, (root, direction, depth)
                assert not graph.is_partial
                if len(expected) > 3:  # a limit keeps the nearest nodes and every edge between them
                    cut = store.lineage(root, direction, depth, limit=3)
                    assert cut.is_partial and len(cut.nodes) == 3
                    assert sorted(n.depth for n in cut.nodes) == sorted(expected.values())[:3]
                    kept = {n.id for n in cut.nodes}
                    assert {(e.source, e.target) for e in cut.edges} == {
                        (s, d) for s, d in edges if s in kept and d in kept
                    }


def test_edges_and_latest_runs_carry_their_times_as_utc_iso_text(store):
    """Whole seconds print without microseconds (as datetime.isoformat does), others with them."""
    first, second = new_run(), new_run()
    store.record(run_event("START", "load", first, minute=1, inputs=[ds("src")]))
    store.record(
        run_event("COMPLETE", "load", first, minute=2.0000005, inputs=[ds("src")], outputs=[ds("dst")])
    )
    store.record(run_event("COMPLETE", "load", second, minute=90, inputs=[ds("src")], outputs=[ds("dst")]))
    graph = store.lineage("dataset:sqlite:///data/w.db:dst", "upstream", 2)
    spans = {(e.source, e.target): (e.first_seen, e.last_seen) for e in graph.edges}
    assert spans[("dataset:sqlite:///data/w.db:src", "job:airflow:load")] == (
        "2026-01-01T00:01:00Z",
        "2026-01-01T01:30:00Z",
    )
    assert spans[("job:airflow:load", "dataset:sqlite:///data/w.db:dst")] == (
        "2026-01-01T00:02:00.000030Z",
        "2026-01-01T01:30:00Z",
    )
    latest = graph.node("job:airflow:load").data["latestRun"]
    assert latest == {
        "runId": second,
        "state": "COMPLETED",
        "startedAt": None,
        "endedAt": "2026-01-01T01:30:00Z",
    }

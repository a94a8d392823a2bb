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

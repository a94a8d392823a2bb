"""Bad input reaching the store: rejected with the field named, or stored; cycles never loop."""

from __future__ import annotations

import math

import pytest

from airflow_lineage_provider.exceptions import InvalidEventError
from tests.store.events import ds, new_run, run_event


def test_text_with_bytes_that_are_not_utf8_is_rejected_naming_the_field(store) -> None:
    name = b"caf\xe9".decode("utf-8", "surrogateescape")
    event = run_event("COMPLETE", "job", new_run(), outputs=[ds(name)])

    with pytest.raises(InvalidEventError, match=r"outputs\[0\]\.name: not valid UTF-8"):
        store.record(event)
    store.upgrade()
    assert list(store.events()) == []


def test_infinity_in_a_facet_is_rejected_naming_the_field(store) -> None:
    event = run_event("COMPLETE", "job", new_run(), run_facets={"m": {"v": -math.inf}})

    with pytest.raises(InvalidEventError, match=r"run\.facets\.m\.v: NaN and Infinity"):
        store.record(event)


def test_a_job_reading_and_writing_the_same_table_is_stored_and_queries_terminate(store) -> None:
    table = ds("counters")
    store.record(run_event("COMPLETE", "increment", new_run(), inputs=[table], outputs=[table]))
    a, b = ds("a"), ds("b")  # and a longer cycle: a -> j1 -> b -> j2 -> a
    store.record(run_event("COMPLETE", "j1", new_run(), minute=1, inputs=[a], outputs=[b]))
    store.record(run_event("COMPLETE", "j2", new_run(), minute=2, inputs=[b], outputs=[a]))

    loop = store.lineage("dataset:sqlite:///data/w.db:counters", "upstream", depth=100)
    ring = store.lineage("dataset:sqlite:///data/w.db:a", "downstream", depth=100)
    both = store.lineage("job:airflow:j1", "both", depth=100)

    assert loop.node_ids() == {"dataset:sqlite:///data/w.db:counters", "job:airflow:increment"}
    expected_ring = {
        "dataset:sqlite:///data/w.db:a",
        "dataset:sqlite:///data/w.db:b",
        "job:airflow:j1",
        "job:airflow:j2",
    }
    assert ring.node_ids() == expected_ring
    assert both.node_ids() == expected_ring
    assert len(store.describe("job:airflow:increment")["inputs"]) == 1


def test_the_2026_facets_in_odd_shapes_are_stored_and_say_nothing(store) -> None:
    odd_check = run_event("COMPLETE", "check", new_run(), inputs=[ds("x")], run_facets={"test": [1]})
    odd_params = {"tests": [{"name": "t", "status": "fail", "params": "x"}]}
    odd_lineage = {"entries": 5, "fields": []}
    odd_fields = {"inputs": 3, "fields": {"f": {"inputs": 7}, "g": [1]}}
    events = [
        odd_check,
        run_event(
            "COMPLETE", "check2", new_run(), minute=1, inputs=[ds("x")], run_facets={"test": odd_params}
        ),
        run_event("COMPLETE", "declare", new_run(), minute=2, job_facets={"lineage": odd_lineage}),
        run_event("COMPLETE", "declare2", new_run(), minute=3, outputs=[ds("y", lineage=odd_fields)]),
    ]

    assert store.record_many(events).stored == 4
    assert store.describe("dataset:sqlite:///data/w.db:x")["assertions"] == []
    assert store.describe("dataset:sqlite:///data/w.db:y")["declaredInputs"] == []


@pytest.mark.parametrize(
    ("where", "facets", "field"),
    [
        ("output", {"columnLineage": [1]}, r"outputs\[0\]\.facets\.columnLineage"),
        (
            "output",
            {"columnLineage": {"fields": {"a": "x"}}},
            r"outputs\[0\]\.facets\.columnLineage\.fields\.a",
        ),
        (
            "input",
            {"columnLineage": {"fields": {"a": {"inputFields": [{"name": "n", "field": "f"}]}}}},
            r"inputs\[0\]\.facets\.columnLineage\.fields\.a\.inputFields\[0\]\.namespace",
        ),
        ("output", {"version": "v1"}, r"outputs\[0\]\.facets\.version"),
        ("output", {"datasetType": 5}, r"outputs\[0\]\.facets\.datasetType"),
        ("run", {"parent": {"run": "x", "job": "y"}}, r"run\.facets\.parent\.run"),
        ("run", {"nominalTime": [1]}, r"run\.facets\.nominalTime"),
        ("job", {"jobType": "BATCH"}, r"job\.facets\.jobType"),
    ],
)
def test_a_facet_the_graph_is_built_from_in_the_wrong_shape_is_refused_naming_it(
    store, where: str, facets: dict, field: str
) -> None:
    """Found by fuzzing ingest: each of these crashed the store (a 500 on REST) instead of naming
    what is wrong; the spec gives each its shape."""
    named = {"run": "run_facets", "job": "job_facets"}
    if where in named:
        event = run_event("COMPLETE", "job", new_run(), **{named[where]: facets})
    else:
        dataset = ds("x", **facets)
        event = run_event("COMPLETE", "job", new_run(), **{f"{where}s": [dataset]})

    with pytest.raises(InvalidEventError, match=field):
        store.record(event)
    store.upgrade()
    assert list(store.events()) == []

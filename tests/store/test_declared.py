"""Declared lineage (the spec's LineageFacet 1-0-0): stored apart from observed edges, walked on request."""

from __future__ import annotations

import json

from airflow_lineage_provider.store.visibility import Scope
from tests.conftest import SPEC_DIR
from tests.spec import validate_against
from tests.store.events import PRODUCER, at, ds, new_run, run_event

LINEAGE = "https://openlineage.io/spec/facets/1-0-0/LineageFacet.json"
WH = "postgresql://warehouse:5432"


def _job_event(job: str, facet: dict, namespace: str = "airflow") -> dict:
    return {
        "eventTime": at(5),
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": namespace, "name": job, "facets": {"lineage": facet}},
        "inputs": [],
        "outputs": [],
    }


def _dataset_event(name: str, facet: dict) -> dict:
    return {
        "eventTime": at(6),
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {"namespace": WH, "name": name, "facets": {"lineage": facet}},
    }


def _vector(name: str) -> dict:
    facet: dict = json.loads((SPEC_DIR / "tests" / "LineageFacet" / f"{name}.json").read_text())["lineage"]
    validate_against(facet, facet["_schemaURL"])
    return facet


def _edges(graph) -> dict[tuple[str, str], tuple[str, bool]]:
    return {(e.source, e.target): (e.type, e.declared) for e in graph.edges}


def test_a_job_event_declares_dataset_to_dataset_lineage_kept_apart_from_observed(store):
    store.record(run_event("COMPLETE", "etl.load", new_run(), inputs=[ds("orders")], outputs=[ds("sums")]))
    store.record(_job_event("daily.enrich", _vector("mixed-sources")))

    graph = store.lineage(f"dataset:{WH}:public.enriched_orders", "upstream", depth=4)

    edges = _edges(graph)
    assert edges[(f"dataset:{WH}:public.orders", f"dataset:{WH}:public.enriched_orders")] == (
        "declared",
        True,
    )
    assert edges[("job:airflow://production:daily.enrichment", f"dataset:{WH}:public.enriched_orders")] == (
        "output",
        True,
    )
    observed = store.lineage("dataset:sqlite:///data/w.db:sums", "upstream", depth=4)
    assert {e.declared for e in observed.edges} == {False}  # observed edges stay observed


def test_declared_edges_are_left_out_when_asked(store):
    store.record(_job_event("daily.enrich", _vector("mixed-sources")))

    graph = store.lineage(f"dataset:{WH}:public.enriched_orders", "upstream", depth=4, declared=False)

    assert graph.edges == []
    assert graph.node_ids() == {f"dataset:{WH}:public.enriched_orders"}


def test_job_to_job_and_implicit_job_declarations_reach_the_walk(store):
    store.record(_job_event("daily.load", _vector("job-to-job"), namespace="airflow://production"))
    store.record(_job_event("validate", _vector("implicit-job")))

    graph = store.lineage("job:airflow://production:daily.load", "upstream", depth=2)
    assert _edges(graph) == {
        ("job:airflow://production:daily.transform", "job:airflow://production:daily.load"): (
            "declared",
            True,
        )
    }
    implicit = store.lineage("job:airflow:validate", "upstream", depth=1)
    assert _edges(implicit) == {
        ("dataset:postgresql://production:5432:public.transactions", "job:airflow:validate"): ("input", True)
    }


def test_a_dataset_event_declares_field_entries_shown_by_describe(store):
    store.record(_dataset_event("public.customer_view", _vector("dataset-to-dataset")))

    target = f"dataset:{WH}:public.customer_view"
    described = store.describe(target)

    assert described["declaredInputs"] == [
        {
            "id": f"dataset:{WH}:public.customers",
            "columns": [
                {
                    "field": "customer_id",
                    "inputField": "id",
                    "transformations": [{"type": "DIRECT", "subtype": "IDENTITY", "masking": False}],
                }
            ],
        }
    ]
    assert store.describe(f"dataset:{WH}:public.customers")["declaredOutputs"][0]["id"] == target
    graph = store.lineage(f"dataset:{WH}:public.customers", "downstream", depth=1)
    assert _edges(graph) == {(f"dataset:{WH}:public.customers", target): ("declared", True)}


def test_an_observed_edge_is_not_marked_declared_when_also_declared(store):
    run_id = new_run()
    store.record(run_event("COMPLETE", "etl.load", run_id, inputs=[ds("orders")], outputs=[ds("sums")]))
    facet = {
        "_producer": PRODUCER,
        "_schemaURL": LINEAGE + "#/$defs/LineageJobFacet",
        "entries": [
            {
                "type": "JOB",
                "inputs": [{"namespace": "sqlite:///data/w.db", "name": "orders", "type": "DATASET"}],
            }
        ],
    }
    validate_against(facet, facet["_schemaURL"])
    store.record(_job_event("etl.load", facet))

    graph = store.lineage("job:airflow:etl.load", "upstream", depth=1)

    assert _edges(graph) == {("dataset:sqlite:///data/w.db:orders", "job:airflow:etl.load"): ("input", False)}


def test_a_restricted_reader_sees_only_declarations_of_jobs_they_may_read(store):
    # both datasets are read by visible jobs; one declaration is by a readable DAG's job, one by another
    for job, name in (("etl.a", "src_a"), ("etl.b", "tgt"), ("other.c", "src_c")):
        store.record(run_event("COMPLETE", job, new_run(), inputs=[ds(name)]))
    for job, source in (("etl.a", "src_a"), ("other.c", "src_c")):
        facet = {
            "_producer": PRODUCER,
            "_schemaURL": LINEAGE + "#/$defs/LineageJobFacet",
            "entries": [
                {
                    "namespace": "sqlite:///data/w.db",
                    "name": "tgt",
                    "type": "DATASET",
                    "inputs": [{"namespace": "sqlite:///data/w.db", "name": source, "type": "DATASET"}],
                }
            ],
        }
        store.record(_job_event(job, facet))
    etl_only = Scope("airflow", frozenset({"etl"}))
    everyone = Scope("airflow", frozenset({"etl", "other"}))

    seen = store.lineage("dataset:sqlite:///data/w.db:tgt", "upstream", depth=1, scope=etl_only)
    assert set(_edges(seen)) == {("dataset:sqlite:///data/w.db:src_a", "dataset:sqlite:///data/w.db:tgt")}
    both = store.lineage("dataset:sqlite:///data/w.db:tgt", "upstream", depth=1, scope=everyone)
    assert len(both.edges) == 2


def test_a_dataset_event_declaration_is_hidden_from_restricted_readers(store):
    store.record(run_event("COMPLETE", "etl.a", new_run(), inputs=[ds("public.customers", namespace=WH)]))
    store.record(run_event("COMPLETE", "etl.b", new_run(), inputs=[ds("public.customer_view", namespace=WH)]))
    store.record(_dataset_event("public.customer_view", _vector("dataset-to-dataset")))

    root = f"dataset:{WH}:public.customer_view"
    assert store.lineage(root, "upstream", 1, scope=Scope("airflow", frozenset({"etl"}))).edges == []
    assert len(store.lineage(root, "upstream", 1, scope=Scope("airflow")).edges) == 1


def test_as_of_leaves_out_declarations_made_later(store):
    store.record(_job_event("daily.enrich", _vector("mixed-sources")))  # declared at minute 5

    root = f"dataset:{WH}:public.enriched_orders"
    assert store.lineage(root, "upstream", 2, as_of=at(4)).edges == []
    assert len(store.lineage(root, "upstream", 2, as_of=at(5)).edges) == 2


def test_every_spec_lineage_vector_is_stored_with_its_declared_edges(store):
    for name in ("dataset-to-job", "generator", "job-to-dataset"):
        store.record(_job_event(f"vector.{name}", _vector(name)))

    assert len(store.lineage("job:airflow://production:daily.load", "upstream", 1).edges) == 1
    assert len(store.lineage(f"dataset:{WH}:public.daily_summary", "upstream", 1).edges) == 1
    generated = store.lineage(f"dataset:{WH}:public.extracted_data", "upstream", 1)
    assert _edges(generated) == {
        ("job:airflow:vector.generator", f"dataset:{WH}:public.extracted_data"): ("output", True)
    }


def _declaring_outputs(job: str, target: str, facet: dict) -> dict:
    """A JobEvent of ``job`` whose output ``target`` carries a dataset lineage facet."""
    event = _job_event(job, {})
    del event["job"]["facets"]["lineage"]
    event["outputs"] = [{"namespace": WH, "name": target, "facets": {"lineage": facet}}]
    return event


def test_declared_field_entries_are_in_column_lineage_marked_and_can_be_left_out(store):
    store.record(_declaring_outputs("etl.declare", "public.customer_view", _vector("dataset-to-dataset")))
    view = f"dataset:{WH}:public.customer_view"

    assert store.column_lineage(view) == [
        {
            "field": "customer_id",
            "inputFields": [
                {
                    "namespace": WH,
                    "name": "public.customers",
                    "field": "id",
                    "transformations": [{"type": "DIRECT", "subtype": "IDENTITY", "masking": False}],
                    "declared": True,
                }
            ],
        }
    ]
    assert store.column_lineage(view, declared=False) == []
    assert store.describe(view)["columnLineage"] == []  # show lists them under declaredInputs


def test_an_observed_field_entry_is_not_repeated_or_marked_when_also_declared(store):
    store.record(_declaring_outputs("etl.declare", "public.customer_view", _vector("dataset-to-dataset")))
    observed = {
        "fields": {
            "customer_id": {"inputFields": [{"namespace": WH, "name": "public.customers", "field": "id"}]}
        }
    }
    written = ds("public.customer_view", namespace=WH, columnLineage=observed)
    store.record(run_event("COMPLETE", "etl.write", new_run(), outputs=[written]))

    rows = store.column_lineage(f"dataset:{WH}:public.customer_view")

    assert [(r["field"], [f.get("declared", False) for f in r["inputFields"]]) for r in rows] == [
        ("customer_id", [False])
    ]


def test_a_restricted_reader_walks_only_field_entries_declared_by_jobs_they_may_read(store):
    from airflow_lineage_provider.store.catalog import Catalog

    target = "public.customer_view"
    for job in ("etl.a", "other.b"):  # both read the target, so both readers may see it
        store.record(run_event("COMPLETE", job, new_run(), inputs=[ds(target, namespace=WH)]))
    store.record(run_event("COMPLETE", "etl.a", new_run(), inputs=[ds("public.customers", namespace=WH)]))
    store.record(_declaring_outputs("other.b", target, _vector("dataset-to-dataset")))
    catalog = Catalog(store)
    root = f"dataset:{WH}:{target}"

    def fields(scope: Scope, declared: bool = True) -> dict[str, list[tuple[str, bool]]]:
        graph = catalog.column_lineage(scope, root, 5, False, 100, declared)
        return {n["id"]: [(e["origin"], e["declared"]) for e in n["inEdges"]] for n in graph.nodes}

    source = f"datasetField:{WH}:public.customers:id"
    assert fields(Scope("airflow")) == {
        source: [],
        f"datasetField:{WH}:{target}:customer_id": [(source, True)],
    }
    assert fields(Scope("airflow"), declared=False) == {}
    assert fields(Scope("airflow", frozenset({"etl"}))) == {}  # declared by other.b
    assert len(fields(Scope("airflow", frozenset({"etl", "other"})))) == 2

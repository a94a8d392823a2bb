"""The spec's 2026 naming facets: accepted, shown by ``describe``, and tags searchable (field-level too)."""

from __future__ import annotations

import json
from typing import Any

from airflow_lineage_provider.store.visibility import Scope
from tests.conftest import SPEC_DIR
from tests.spec import validate_facet
from tests.store.events import PRODUCER, ds, new_run, run_event

EXEC = "https://openlineage.io/spec/facets/1-0-0/ExecutionParametersRunFacet.json#/$defs/ExecutionParametersRunFacet"


def _vector(kind: str, number: int = 1) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((SPEC_DIR / "tests" / kind / f"{number}.json").read_text())
    return found


def _tagged_world(store: Any) -> tuple[str, str]:
    """etl.load writes ``customers`` with tags (one on field ``email``), hierarchy and a dataset type;
    its run has a parent with a root and execution parameters; its job an emission pattern."""
    run_id = new_run()
    parent = _vector("ParentRunFacet", 2)["parent"]
    parameters = {
        "_producer": PRODUCER,
        "_schemaURL": EXEC,
        "parameters": [{"key": "spark.executor.memory", "name": "Executor memory", "value": "4g"}],
    }
    output = ds("customers", **_vector("TagsDatasetFacet"), **_vector("HierarchyDatasetFacet"))
    output["facets"].update(_vector("DatasetTypeDatasetFacet"))
    event = run_event(
        "COMPLETE",
        "etl.load",
        run_id,
        outputs=[output],
        run_facets={"parent": parent, "executionParameters": parameters},
        job_facets=_vector("JobTypeJobFacet", 3),
    )
    for name, facet in {**output["facets"], **event["run"]["facets"], **event["job"]["facets"]}.items():
        validate_facet(name, facet)
    store.record(event)
    return run_id, "dataset:sqlite:///data/w.db:customers"


def test_dataset_tags_type_and_hierarchy_are_shown(store):
    _, customers = _tagged_world(store)

    shown = store.describe(customers)

    assert shown["tags"] == [
        {"key": "test_tag", "value": "test_value", "source": "test_source", "field": "email"},
        {"key": "test_tag2", "value": "test_value2"},
    ]
    assert shown["datasetType"] == {"datasetType": "VIEW", "subType": "MATERIALIZED"}
    assert [level["type"] for level in shown["hierarchy"]] == ["DATABASE", "SCHEMA", "TABLE"]


def test_run_parent_root_parameters_and_job_emission_pattern_are_shown(store):
    run_id, _ = _tagged_world(store)

    run = store.describe(f"run:{run_id}")
    job = store.describe("job:airflow:etl.load")

    assert run["parent"] == {
        "runId": "f99310b4-3c3c-1a1a-2b2b-c1b95c24ff11",
        "job": "job:airflow:my_dag.my_task",
    }
    assert run["root"] == {"runId": "a0000000-3c3c-1a1a-2b2b-c1b95c24ff11", "job": "job:airflow:my_dag"}
    assert run["parameters"][0]["value"] == "4g"
    assert job["jobType"]["emissionPattern"] == {
        "eventTrigger": "EVENT_BASED",
        "eventContentMode": "ACCUMULATIVE",
    }


def test_search_finds_a_dataset_by_a_tag_key_or_value_including_field_level_tags(store):
    _, customers = _tagged_world(store)

    assert [n.id for n in store.search("test_value2")] == [customers]
    assert [n.id for n in store.search("TEST_TAG")] == [customers]  # any case; the field-level tag too
    assert store.search("no-such-tag") == []


def test_a_newer_tags_facet_replaces_the_tags(store):
    _, customers = _tagged_world(store)
    tags = {"_producer": PRODUCER, "_schemaURL": _vector("TagsDatasetFacet")["tags"]["_schemaURL"]}
    later = ds("customers", tags={**tags, "tags": [{"key": "pii", "value": "true"}]})
    store.record(run_event("COMPLETE", "etl.load", new_run(), minute=5, outputs=[later]))

    assert [n.id for n in store.search("pii")] == [customers]
    assert store.search("test_value2") == []
    assert store.describe(customers)["tags"] == [{"key": "pii", "value": "true"}]


def test_a_restricted_reader_finds_tags_only_of_runs_they_may_read(store):
    from airflow_lineage_provider.store.catalog import Catalog

    _, customers = _tagged_world(store)  # etl.load: DAG etl
    catalog = Catalog(store)

    hits = catalog.search(Scope("airflow", frozenset({"etl"})), "test_value2", None, None, "name", 10)
    misses = catalog.search(Scope("airflow", frozenset({"other"})), "test_value2", None, None, "name", 10)

    assert [h["nodeId"] for h in hits.items] == [customers]
    assert misses.items == []


def test_tags_on_an_input_name_the_dataset_shown_and_searchable(store):
    read = ds("lookup", **_vector("TagsDatasetFacet"))
    store.record(run_event("START", "etl.read", new_run(), inputs=[read]))

    assert [str(n.id) for n in store.search("test_value2")] == ["dataset:sqlite:///data/w.db:lookup"]
    assert store.describe("dataset:sqlite:///data/w.db:lookup")["tags"] == [
        {"key": "test_tag", "value": "test_value", "source": "test_source", "field": "email"},
        {"key": "test_tag2", "value": "test_value2"},
    ]
    from airflow_lineage_provider.store.catalog import Catalog

    catalog = Catalog(store)
    hits = catalog.search(Scope("airflow", frozenset({"etl"})), "test_value2", None, None, "name", 10)
    misses = catalog.search(Scope("airflow", frozenset({"other"})), "test_value2", None, None, "name", 10)
    assert [h["nodeId"] for h in hits.items] == ["dataset:sqlite:///data/w.db:lookup"]
    assert misses.items == []

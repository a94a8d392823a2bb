"""The spec's 2026 facets through REST: declared lineage, data quality assertions and test results, and
what ingest read leniently, on the read routes; each as a restricted reader may see it."""

from __future__ import annotations

from typing import Any

from tests.api.world import segment
from tests.spec import validate_facet
from tests.store.events import PRODUCER, at, ds, new_run, run_event

DB = "sqlite:///data/w.db"
LINEAGE = "https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/LineageJobFacet"
DQ = "https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet"
TEST = "https://openlineage.io/spec/facets/1-0-1/TestRunFacet.json#/$defs/TestRunFacet"


def _declaring(job: str, source: str, target: str) -> dict[str, Any]:
    """A JobEvent of ``job`` declaring dataset ``source`` -> dataset ``target``."""
    entry = {
        "namespace": DB,
        "name": target,
        "type": "DATASET",
        "inputs": [{"namespace": DB, "name": source, "type": "DATASET"}],
    }
    facet = {"_producer": PRODUCER, "_schemaURL": LINEAGE, "entries": [entry]}
    validate_facet("lineage", facet)
    return {
        "eventTime": at(30),
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {
            "namespace": "airflow",
            "name": job,
            "facets": {"lineage": facet},
        },
    }


def _check(job: str, dataset: str, run_id: str, ok: bool) -> dict[str, Any]:
    source = ds(dataset)
    assertion = {"assertion": "not_null", "column": "id", "success": ok, "name": "id_not_null"}
    source["facets"] = {
        "dataQualityAssertions": {"_producer": PRODUCER, "_schemaURL": DQ, "assertions": [assertion]}
    }
    tests = {"_producer": PRODUCER, "_schemaURL": TEST, "tests": [{"name": "rows", "status": "fail"}]}
    validate_facet("test", tests)
    validate_facet("dataQualityAssertions", source["facets"]["dataQualityAssertions"])
    return run_event("COMPLETE", job, run_id, minute=20, inputs=[source], run_facets={"test": tests})


def _world(api: Any) -> dict[str, str]:
    runs = {"load": new_run(), "check_a": new_run(), "check_b": new_run()}
    events = [
        run_event(
            "COMPLETE", "dag_a.load", runs["load"], minute=10, inputs=[ds("raw")], outputs=[ds("orders")]
        ),
        run_event("COMPLETE", "dag_b.report", new_run(), minute=11, inputs=[ds("summary")]),
        run_event("COMPLETE", "dag_a.report", new_run(), minute=12, inputs=[ds("summary")]),
        _check("dag_a.check", "orders", runs["check_a"], ok=False),
        _check("dag_b.check", "orders", runs["check_b"], ok=False),
        _declaring("dag_a.load", "orders", "summary"),
        _declaring("dag_b.report", "raw", "summary"),
    ]
    assert api.post("/api/v1/lineage/batch", json=events).status_code == 201
    return runs


def _edges(body: dict[str, Any]) -> dict[tuple[str, str], tuple[str, bool]]:
    return {
        (e["origin"], e["destination"]): (e["type"], e["declared"])
        for node in body["graph"]
        for e in node["outEdges"]
    }


def test_declared_edges_are_in_lineage_marked_and_can_be_left_out(api):
    _world(api)
    summary = f"dataset:{DB}:summary"

    body = api.ok("/api/v1/lineage", nodeId=summary, depth=1, direction="upstream")
    assert _edges(body) == {
        (f"dataset:{DB}:orders", summary): ("declared", True),
        (f"dataset:{DB}:raw", summary): ("declared", True),
    }
    observed = api.ok("/api/v1/lineage", nodeId=summary, depth=1, direction="upstream", declared="false")
    assert _edges(observed) == {}
    impact = api.ok("/api/v1/impact", nodeId=f"dataset:{DB}:raw", depth=1)
    assert summary in {n["id"] for n in impact["nodes"]}
    assert api.ok("/api/v1/impact", nodeId=f"dataset:{DB}:raw", depth=1, declared="false")["nodes"][0][
        "id"
    ] == ("job:airflow:dag_a.load")


def test_a_restricted_reader_sees_only_declarations_and_checks_of_their_dags(api):
    runs = _world(api)
    summary = f"dataset:{DB}:summary"

    body = api.ok("/api/v1/lineage", "viewer_a", nodeId=summary, depth=1, direction="upstream")
    assert _edges(body) == {(f"dataset:{DB}:orders", summary): ("declared", True)}
    orders = api.ok("/api/v1/lineage", "viewer_a", nodeId=f"dataset:{DB}:orders", depth=0)["graph"][0]
    assert orders["data"]["assertions"]["runId"] == runs["check_a"]
    versions = api.ok(f"/api/v1/namespaces/{segment(DB)}/datasets/orders/versions", "viewer_a")
    assert [a["runId"] for a in versions["versions"][0]["assertions"]] == [runs["check_a"]]
    assert api.get(f"/api/v1/jobs/runs/{runs['check_b']}", "viewer_a").status_code == 404


def test_assertions_and_tests_are_on_the_run_the_version_and_the_impact_answer(api):
    runs = _world(api)

    run = api.ok(f"/api/v1/jobs/runs/{runs['check_a']}")
    assert [(a["dataset"], a["failing"], a["total"]) for a in run["assertions"]] == [
        (f"dataset:{DB}:orders", 1, 1)
    ]
    assert run["tests"] == [{"name": "rows", "status": "fail"}]
    versions = api.ok(f"/api/v1/namespaces/{segment(DB)}/datasets/orders/versions")
    assert {a["runId"] for a in versions["versions"][0]["assertions"]} == {runs["check_a"], runs["check_b"]}
    impact = api.ok("/api/v1/impact", nodeId=f"dataset:{DB}:raw", depth=2, declared="false")
    failing = {n["id"]: n["failingAssertions"] for n in impact["nodes"]}
    assert failing == {"job:airflow:dag_a.load": None, f"dataset:{DB}:orders": 1}
    assert "failing_assertions" not in impact  # camelCase on the wire
    csv_text = api.get("/api/v1/impact", params={"nodeId": f"dataset:{DB}:raw", "format": "csv"}).text
    assert csv_text.splitlines()[0] == "id,type,namespace,name,depth"


def test_what_ingest_read_leniently_is_on_the_run_and_events_routes(api):
    run_id = new_run()
    event = run_event("COMPLETE", "dag_a.lenient", run_id, inputs=[ds("raw")])
    del event["schemaURL"]
    assert api.post("/api/v1/lineage", json=event).status_code == 201

    run = api.ok(f"/api/v1/jobs/runs/{run_id}")
    assert [(n["eventType"], n["field"]) for n in run["normalised"]] == [("COMPLETE", "schemaURL")]
    events = api.ok("/api/v1/events/lineage")
    assert [(n["index"], n["field"]) for n in events["normalised"]] == [(0, "schemaURL")]
    assert events["events"][0]["run"]["runId"] == run_id


def _declaring_field(job: str, source: str, target: str, field: str, input_field: str) -> dict[str, Any]:
    """A JobEvent of ``job`` declaring ``target.field`` computed from ``source.input_field``."""
    event = _declaring(job, source, target)
    entry = event["job"]["facets"]["lineage"]["entries"][0]
    entry["fields"] = {
        field: {"inputs": [{"namespace": DB, "name": source, "type": "DATASET", "field": input_field}]}
    }
    validate_facet("lineage", event["job"]["facets"]["lineage"])
    return event


def _field_edges(body: dict[str, Any]) -> set[tuple[str, str, bool]]:
    found = {(e["origin"], e["destination"], e["declared"]) for n in body["graph"] for e in n["inEdges"]}
    marks = {(f["field"], f["declared"]) for n in body["graph"] for f in n["data"]["inputFields"]}
    assert {d for _, _, d in found} == {d for _, d in marks}  # input fields are marked as edges are
    return found


def test_declared_field_entries_are_in_column_lineage_marked_and_as_each_reader_may_see(api):
    _world(api)
    events = [
        _declaring_field("dag_a.load", "orders", "summary", "total", "amount"),
        _declaring_field("dag_b.report", "raw", "summary", "b_total", "b_amount"),
    ]
    assert api.post("/api/v1/lineage/batch", json=events).status_code == 201
    summary, field = f"dataset:{DB}:summary", f"datasetField:{DB}"

    everything = api.ok("/api/v1/column-lineage", nodeId=summary, depth=2)
    assert _field_edges(everything) == {
        (f"{field}:orders:amount", f"{field}:summary:total", True),
        (f"{field}:raw:b_amount", f"{field}:summary:b_total", True),
    }
    assert api.ok("/api/v1/column-lineage", nodeId=summary, declared="false")["graph"] == []
    mine = api.ok("/api/v1/column-lineage", "viewer_a", nodeId=summary, depth=2)
    assert _field_edges(mine) == {(f"{field}:orders:amount", f"{field}:summary:total", True)}
    downstream = api.ok(
        "/api/v1/column-lineage", "viewer_a", nodeId=f"{field}:raw:b_amount", withDownstream=True
    )
    assert "b_total" not in str(downstream)

"""Data quality assertions (1-1-0) and test results (TestRunFacet 1-0-1): on the version and the run,
and marked on the nodes of a lineage answer."""

from __future__ import annotations

from airflow_lineage_provider.store.visibility import Scope
from tests.spec import validate_event
from tests.store.events import ds, new_run, run_event

DQ = "https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet"
TEST = "https://openlineage.io/spec/facets/1-0-1/TestRunFacet.json#/$defs/TestRunFacet"
PRODUCER = "https://github.com/airflow-lineage-provider/tests"


def _assertions(*results: tuple[str, bool]) -> dict:
    return {
        "_producer": PRODUCER,
        "_schemaURL": DQ,
        "assertions": [
            {"assertion": kind, "success": ok, "column": "id", "severity": "error", "name": f"{kind}_id"}
            for kind, ok in results
        ],
    }


def _check(
    job: str, dataset: str, minute: float, *results: tuple[str, bool], where: str = "inputFacets"
) -> str:
    """A check run reading ``dataset`` and reporting assertions on it; returns its run id."""
    run_id = new_run()
    source = ds(dataset)
    if where == "inputFacets":
        source["inputFacets"] = {"dataQualityAssertions": _assertions(*results)}
    else:
        source["facets"] = {"dataQualityAssertions": _assertions(*results)}
    tests = {
        "_producer": PRODUCER,
        "_schemaURL": TEST,
        "tests": [{"name": k, "status": "pass" if ok else "fail", "severity": "error"} for k, ok in results],
    }
    event = run_event("COMPLETE", job, run_id, minute=minute, inputs=[source], run_facets={"test": tests})
    validate_event(event)
    return event, run_id


def _write(store, job: str, dataset: str, minute: float) -> str:
    run_id = new_run()
    store.record(run_event("COMPLETE", job, run_id, minute=minute, inputs=[ds("raw")], outputs=[ds(dataset)]))
    return run_id


def test_a_failing_assertion_is_shown_on_the_run_the_version_and_the_impact_answer(store):
    writer = _write(store, "etl.load", "orders", 0)
    event, check = _check("etl.check_orders", "orders", 1, ("not_null", True), ("unique", False))
    store.record(event)
    version = store.describe("dataset:sqlite:///data/w.db:orders")["currentVersion"]

    run = store.describe(f"run:{check}")
    assert [(a["dataset"], a["failing"], a["total"], a["version"]) for a in run["assertions"]] == [
        ("dataset:sqlite:///data/w.db:orders", 1, 2, version)
    ]
    assert [t["status"] for t in run["tests"]] == ["pass", "fail"]
    dataset = store.describe("dataset:sqlite:///data/w.db:orders")
    assert dataset["assertions"][0]["runId"] == check
    impact = store.lineage("dataset:sqlite:///data/w.db:raw", "downstream", depth=2)
    orders = impact.node("dataset:sqlite:///data/w.db:orders")
    assert orders.data["assertions"] == {"failing": 1, "total": 2, "runId": check, "version": version}
    assert "assertions" not in impact.node("dataset:sqlite:///data/w.db:raw").data
    assert writer != check


def test_a_new_version_without_checks_is_not_marked_by_the_old_versions_failures(store):
    _write(store, "etl.load", "orders", 0)
    store.record(_check("etl.check_orders", "orders", 1, ("unique", False))[0])
    _write(store, "etl.load", "orders", 2)  # a new version, not checked yet

    graph = store.lineage("dataset:sqlite:///data/w.db:orders", "upstream", depth=0)

    assert "assertions" not in graph.node("dataset:sqlite:///data/w.db:orders").data


def test_a_later_passing_check_of_the_same_version_clears_the_mark(store):
    _write(store, "etl.load", "orders", 0)
    store.record(_check("etl.check_orders", "orders", 1, ("unique", False))[0])
    store.record(_check("etl.check_orders", "orders", 2, ("unique", True), where="facets")[0])

    node = store.lineage("dataset:sqlite:///data/w.db:orders", "upstream", depth=0).nodes[0]

    assert node.data["assertions"]["failing"] == 0


def test_a_restricted_reader_sees_only_checks_of_dags_they_may_read(store):
    _write(store, "etl.load", "orders", 0)
    store.record(_check("audit.check", "orders", 1, ("unique", False))[0])

    root = "dataset:sqlite:///data/w.db:orders"
    hidden = store.lineage(root, "upstream", 0, scope=Scope("airflow", frozenset({"etl"})))
    shown = store.lineage(root, "upstream", 0, scope=Scope("airflow", frozenset({"etl", "audit"})))

    assert "assertions" not in hidden.nodes[0].data
    assert shown.nodes[0].data["assertions"]["failing"] == 1


def test_pruning_a_check_run_removes_its_assertions_and_erasing_the_dataset_removes_all(store):
    from datetime import timedelta

    _write(store, "etl.load", "orders", 0)
    old_event, old_check = _check("etl.check_orders", "orders", 1, ("unique", False))
    store.record(old_event)
    _write(store, "etl.load", "orders", 2)
    new_event, new_check = _check("etl.check_orders", "orders", 3, ("unique", True))
    store.record(new_event)  # the old check run is now neither its job's latest nor needed

    store.prune(timedelta(days=1))  # every run here is from 2026-01-01
    runs = [a["runId"] for a in store.describe("dataset:sqlite:///data/w.db:orders")["assertions"]]
    assert runs == [new_check] and old_check not in runs

    store.erase("dataset:sqlite:///data/w.db:orders")
    assert store.describe("dataset:sqlite:///data/w.db:orders")["assertions"] == []


def test_model_provenance_marks_an_input_whose_current_version_fails_its_checks(store):
    from tests.store.mlworld import FEATURES_ID, MODEL_ID, world

    store.record_many(world().events)
    features = {"namespace": "file", "name": "/data/features.csv", "facets": {}}
    features["inputFacets"] = {"dataQualityAssertions": _assertions(("not_null", False), ("unique", True))}
    store.record(run_event("COMPLETE", "qa.check_features", new_run(), minute=500, inputs=[features]))

    def marks(answer: dict) -> dict[str, int]:
        entries = [e for s in answer["steps"] for side in ("inputs", "outputs") for e in s[side]]
        return {e["id"]: e["failingAssertions"] for e in entries if "failingAssertions" in e}

    assert marks(store.ml.provenance(MODEL_ID)) == {FEATURES_ID: 1}
    assert marks(store.ml.impact(FEATURES_ID)) == {FEATURES_ID: 1}
    ml_only = store.ml_for(Scope("airflow", frozenset({"ml"})))
    assert marks(ml_only.provenance(MODEL_ID)) == {}  # the check ran in a DAG they may not read
    both = store.ml_for(Scope("airflow", frozenset({"ml", "qa"})))
    assert marks(both.provenance(MODEL_ID)) == {FEATURES_ID: 1}

"""Model queries on the store (SQLite and PostgreSQL): provenance, impact, reproducible, diff, as-of,
approvals, environments kept once per hash, and the audit."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from airflow_lineage_provider.exceptions import InvalidNodeIdError, InvalidQueryError, NodeNotFoundError
from tests.store.mlworld import (
    BEFORE_ANY_MODEL,
    BETWEEN_TRAININGS,
    DISTS_A,
    FEATURES_ID,
    METRICS_ID,
    MODEL_ID,
    PREDICTIONS_ID,
    RAW_ID,
    SOURCE_ID,
    World,
    world,
)


@pytest.fixture
def ml_world(store) -> World:
    w = world()
    store.record_many(w.events)
    return w


def _version(store, node_id: str, run_id: str) -> str:
    return next(v["version"] for v in store.describe(node_id)["versions"] if v["runId"] == run_id)


def test_models_lists_only_datasets_typed_model(store, ml_world):
    models = store.ml.models()

    assert [(m["id"], m["currentVersion"], m["framework"]) for m in models] == [
        (MODEL_ID, "v2", "python-ols")
    ]


def test_provenance_of_predictions_reaches_the_raw_source_through_the_exact_model_version(store, ml_world):
    answer = store.ml.provenance(PREDICTIONS_ID)

    runs = [s["runId"] for s in answer["steps"]]
    assert runs == [ml_world.runs[r] for r in ("score", "train1", "features1", "ingest")]
    score, train = answer["steps"][0], answer["steps"][1]
    assert score["inputs"] == [
        {"id": MODEL_ID, "type": "MODEL", "version": "v1", "producedBy": ml_world.runs["train1"]}
    ]
    assert train["inputs"][0]["id"] == FEATURES_ID
    assert train["inputs"][0]["version"] == _version(store, FEATURES_ID, ml_world.runs["features1"])
    assert answer["sources"] == [SOURCE_ID]


def test_provenance_of_the_model_defaults_to_its_current_version_and_takes_a_version(store, ml_world):
    current = store.ml.provenance(MODEL_ID)
    first = store.ml.provenance(MODEL_ID, version="v1")

    assert current["version"] == "v2" and current["steps"][0]["runId"] == ml_world.runs["train2"]
    assert current["steps"][1]["runId"] == ml_world.runs["features2"]
    assert first["steps"][0]["runId"] == ml_world.runs["train1"]
    assert first["steps"][1]["runId"] == ml_world.runs["features1"]


def test_as_of_a_time_between_the_trainings_answers_the_first_model_version(store, ml_world):
    assert store.ml.provenance(MODEL_ID, as_of=BETWEEN_TRAININGS)["version"] == "v1"
    assert store.ml.provenance(MODEL_ID, as_of=f"run:{ml_world.runs['score']}")["version"] == "v1"
    with pytest.raises(NodeNotFoundError, match="no version written at"):
        store.ml.provenance(MODEL_ID, as_of=BEFORE_ANY_MODEL)
    graph = store.lineage(MODEL_ID, direction="upstream", depth=10, as_of=BEFORE_ANY_MODEL)
    assert graph.node_ids() == {MODEL_ID}


def test_impact_of_one_features_version_is_the_model_version_trained_on_it(store, ml_world):
    first_features = _version(store, FEATURES_ID, ml_world.runs["features1"])

    one = store.ml.impact(FEATURES_ID, version=first_features)
    every = store.ml.impact(RAW_ID)

    assert [(m["id"], m["version"], m["runId"]) for m in one["models"]] == [
        (MODEL_ID, "v1", ml_world.runs["train1"])
    ]
    assert {s["runId"] for s in one["steps"]} >= {ml_world.runs[r] for r in ("train1", "evaluate1", "score")}
    assert ml_world.runs["train2"] not in {s["runId"] for s in one["steps"]}
    assert {(m["version"], m["runId"]) for m in every["models"]} == {
        ("v1", ml_world.runs["train1"]),
        ("v2", ml_world.runs["train2"]),
    }


def test_reproducible_passes_for_the_clean_seeded_run_and_names_what_the_other_misses(store, ml_world):
    good = store.ml.reproducible(MODEL_ID, version="v1")
    bad = store.ml.reproducible(MODEL_ID)

    assert good["reproducible"] and good["runId"] == ml_world.runs["train1"] and good["missing"] == []
    assert not bad["reproducible"]
    failed = {c["check"] for c in bad["checks"] if not c["ok"] and c["required"]}
    assert failed == {"code pinned and clean", "seed recorded"}
    assert any("uncommitted changes" in m for m in bad["missing"])


def test_diff_of_the_two_trainings_names_every_changed_section(store, ml_world):
    answer = store.ml.diff(ml_world.runs["train1"], f"run:{ml_world.runs['train2']}")

    d = answer["differences"]
    assert not answer["identical"]
    assert [c["key"] for c in d["inputs"]] == [FEATURES_ID]
    assert {c["key"] for c in d["code"]} == {"dagFileHash", "git.commit", "git.dirty", "git.diffHash"}
    assert d["params"] == [{"key": "lr", "a": 0.1, "b": 0.2}]
    assert {"key": f"{MODEL_ID}.lr", "a": 0.1, "b": 0.2} in d["hyperparameters"]
    assert {"key": "distributions.scikit-learn", "a": None, "b": "1.6.0"} in d["environment"]
    assert d["seeds"] == [{"key": "seed[0]", "a": {"seed": 42, "libraries": ["random"]}, "b": None}]
    assert d["hardware"] == []


def test_diff_of_a_run_with_itself_is_identical_and_unknown_runs_are_named(store, ml_world):
    assert store.ml.diff(ml_world.runs["train1"], ml_world.runs["train1"])["identical"]
    with pytest.raises(NodeNotFoundError, match="run:00000000-0000-0000-0000-000000000000"):
        store.ml.diff(ml_world.runs["train1"], "00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidNodeIdError, match="not a UUID"):
        store.ml.diff("nope", ml_world.runs["train1"])


def test_metrics_of_a_model_version_are_in_its_run_record_and_audit(store, ml_world):
    record = store.ml.run_record(ml_world.runs["evaluate1"])
    audit = store.ml.audit(MODEL_ID, version="v1")

    assert record["metrics"][METRICS_ID]["values"] == {"rmse": 12.5, "r2": 0.91}
    assert [m["values"] for m in audit["metrics"]] == [{"rmse": 12.5, "r2": 0.91}]
    assert store.ml.audit(MODEL_ID)["metrics"] == []  # nothing measured v2


def test_the_distribution_list_is_stored_once_per_hash_and_not_in_raw_events(store, store_url, ml_world):
    rerun = world()  # same lists again, new runs
    store.record_many(rerun.events)
    engine = create_engine(store_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM lineage_environments")).scalar()
    engine.dispose()
    raw = [
        e
        for e in store.events()
        if e["run"]["runId"] == ml_world.runs["train1"] and e["eventType"] == "COMPLETE"
    ]

    assert count == 2
    environment = raw[0]["run"]["facets"]["airflowLineage_reproducibility"]["environment"]
    assert "distributions" not in environment and environment["distributionsHash"]
    assert store.ml.run_record(ml_world.runs["train1"])["distributions"] == sorted(DISTS_A)
    assert store.verify().ok


def test_approvals_are_appended_against_the_exact_version_and_chained(store, ml_world):
    before = len(list(store.events()))

    done = store.ml.approve(MODEL_ID, "alice", "validated on holdout", "eu-ai-act", version="v1")
    store.ml.approve(MODEL_ID, "bob", "second look")

    assert done["version"] == "v1" and done["approvedBy"] == "alice"
    listed = store.ml.approvals(MODEL_ID)
    assert [(a["approvedBy"], a["version"], a["framework"]) for a in listed] == [
        ("alice", "v1", "eu-ai-act"),
        ("bob", "v2", None),
    ]
    assert [a["approvedBy"] for a in store.ml.approvals(MODEL_ID, version="v1")] == ["alice"]
    assert len(list(store.events())) == before + 2
    assert store.verify().ok and store.verify().checked == before + 2


@pytest.mark.parametrize(
    ("node", "kwargs", "error", "message"),
    [
        (RAW_ID, {}, InvalidQueryError, "is not a model"),
        ("dataset:file:/nope.json", {}, NodeNotFoundError, "no node dataset:file:/nope.json"),
        ("job:airflow:ml.train", {}, InvalidQueryError, "is a job, not a dataset"),
        (MODEL_ID, {"framework": "fda"}, InvalidQueryError, "unknown framework 'fda'; use one of eu-ai-act"),
        (MODEL_ID, {"version": "v9"}, NodeNotFoundError, "version v9 — did you mean version v2, version v1"),
        (MODEL_ID, {"by": " "}, InvalidQueryError, "who approved"),
        (MODEL_ID, {"reason": ""}, InvalidQueryError, "needs a reason"),
    ],
)
def test_bad_approvals_are_refused_clearly_and_store_nothing(store, ml_world, node, kwargs, error, message):
    before = len(list(store.events()))
    args = {"by": "alice", "reason": "ok", **kwargs}

    with pytest.raises(error, match=message):
        store.ml.approve(node, args.pop("by"), args.pop("reason"), **args)

    assert len(list(store.events())) == before


def test_the_audit_holds_training_data_code_environment_approvals_and_chain_status(store, ml_world):
    store.ml.approve(MODEL_ID, "alice", "ok", version="v1")

    audit = store.ml.audit(MODEL_ID, version="v1")

    assert audit["training"]["runId"] == ml_world.runs["train1"]
    assert audit["training"]["code"]["git"]["commit"] == "a" * 40
    assert audit["provenance"]["sources"] == [SOURCE_ID]
    assert audit["reproducibility"]["reproducible"]
    assert [a["approvedBy"] for a in audit["approvals"]] == ["alice"]
    assert audit["chain"]["ok"]
    assert audit["modelFacet"]["hyperparameters"] == {"lr": 0.1, "epochs": 10}


def test_an_unversioned_raw_source_makes_the_model_not_reproducible(store):
    w = world()
    for event in w.events:  # the source read without its version
        for dataset in event["inputs"]:
            if dataset["namespace"].startswith("postgres://"):
                dataset["facets"] = {}
    store.record_many(w.events)

    answer = store.ml.reproducible(MODEL_ID, version="v1")

    assert not answer["reproducible"]
    assert answer["missing"] == [f"unversioned inputs: {SOURCE_ID}"]


def test_the_approval_event_is_valid_openlineage_with_our_facet_schema(store, ml_world):
    from tests.spec import OPENLINEAGE, validate_against

    store.ml.approve(MODEL_ID, "alice", "ok", "gdpr", version="v1")
    (event,) = [e for e in store.events() if "dataset" in e]
    facet = event["dataset"]["facets"]["airflowLineage_approval"]

    validate_against(event, OPENLINEAGE + "#/$defs/DatasetEvent")
    validate_against(facet, facet["_schemaURL"])
    assert facet["framework"] == "gdpr" and facet["modelVersion"] == "v1"


def test_a_store_writes_a_distribution_list_once_and_then_only_new_ones(tmp_path):
    """After a list is stored, events carrying it again attempt no insert (a trigger refuses any);
    a list not seen before is still stored."""
    from airflow_lineage_provider import LineageStore
    from airflow_lineage_provider.core.digests import distributions_hash
    from tests.store.events import new_run, run_event
    from tests.store.mlworld import DISTS_A, DISTS_B, repro

    def event(dists):
        facet = repro("c" * 40, False, dists, None, 0.1)
        return run_event("START", "ml.train", new_run(), run_facets={"airflowLineage_reproducibility": facet})

    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    store = LineageStore.from_url(url)
    engine = create_engine(url)
    try:
        store.record(event(DISTS_A))
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON lineage_environments "
                    "WHEN NEW.hash = :known BEGIN SELECT RAISE(ABORT, 'written again'); END".replace(
                        ":known", f"'{distributions_hash(DISTS_A)}'"
                    )
                )
            )
        assert store.record(event(DISTS_A)) is True
        assert store.record(event(DISTS_B)) is True
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM lineage_environments")).scalar()
        assert count == 2
    finally:
        engine.dispose()
        store.close()

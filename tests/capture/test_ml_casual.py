"""The ML SDK used loosely, in real tasks (dag.test() of tests/capture/dags/capture_ml_casual.py), read
back from a real store (SQLite and PostgreSQL): metrics logged without ``model=`` belong to their run
and to its one model; an input read under a label no run produced is followed through the version it
stood for, and one nothing produced is said to be so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider import LineageStore, reports
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.capture.conftest import Events, run_dag
from tests.cli.shell import cli

DAG_ID = "capture_ml_casual"
MODEL_ID = "dataset:file:/srv/casual/model.pkl"
TRAINING_ID = "dataset:file:/srv/casual/training.csv"
EXTERNAL_ID = "dataset:file:/srv/casual/external.csv"
LATE_ID = "dataset:file:/srv/casual/late.csv"


@pytest.fixture(scope="module")
def events(airflow_db: Any) -> Events:
    emitter = AccumulatingEmitter()
    dag_run = run_dag("capture_ml_casual", "capture_ml_casual_dag", emitter)
    assert str(dag_run.state) == "success"
    return Events(emitter.dicts())


@pytest.fixture
def store(store_url: str, events: Events) -> Iterator[LineageStore]:
    store = LineageStore.from_url(store_url)
    store.record_many(events.all)
    yield store
    store.close()


def run_of(events: Events, task: str) -> str:
    return str(events.one(f"{DAG_ID}.{task}", "COMPLETE")["run"]["runId"])


def test_metrics_logged_without_a_model_are_the_audited_models_and_its_runs(
    store: LineageStore, events: Events
) -> None:
    audit = store.ml.audit(MODEL_ID)

    assert [(m["runId"], m["values"]) for m in audit["metrics"]] == [
        (run_of(events, "train"), {"accuracy": 0.91, "f1": 0.88})
    ]
    assert audit["training"]["metrics"] == {
        f"dataset:ml-metrics:{DAG_ID}.train": {"values": {"accuracy": 0.91, "f1": 0.88}}
    }
    markdown = reports.audit_markdown(audit)
    assert "None recorded" not in markdown.split("## Metrics", 1)[1].split("##", 1)[0]
    assert "0.91" in markdown and "0.88" in markdown


def test_models_lists_the_metrics_of_a_run_with_one_model_only(store: LineageStore) -> None:
    models = {m["id"]: m for m in store.ml.models()}

    assert models[MODEL_ID]["metrics"] == {"accuracy": 0.91, "f1": 0.88}
    # train_two logged two models: its metrics are the run's, neither model's
    assert models["dataset:file:/srv/casual/a.pkl"]["metrics"] == {}
    assert models["dataset:file:/srv/casual/b.pkl"]["metrics"] == {}


def test_diff_shows_the_metrics_each_run_logged(store: LineageStore, events: Events) -> None:
    diff = store.ml.diff(run_of(events, "train"), run_of(events, "train_two"))

    assert {(d["key"], d["a"], d["b"]) for d in diff["differences"]["metrics"]} == {
        (f"dataset:ml-metrics:{DAG_ID}.train.accuracy", 0.91, None),
        (f"dataset:ml-metrics:{DAG_ID}.train.f1", 0.88, None),
        (f"dataset:ml-metrics:{DAG_ID}.train_two.accuracy", None, 0.5),
    }


def test_a_label_no_run_produced_continues_through_the_version_current_when_it_was_read(
    store: LineageStore, events: Events
) -> None:
    answer = store.ml.provenance(MODEL_ID)
    prepare_run = run_of(events, "prepare")
    prepared = store.ml.run_record(prepare_run)["outputs"][TRAINING_ID]

    assert [s["runId"] for s in answer["steps"]] == [run_of(events, "train"), prepare_run]
    read = {i["id"]: i for i in answer["steps"][0]["inputs"]}
    assert read[TRAINING_ID]["version"] == "v1"  # the label is kept as the task logged it
    assert read[TRAINING_ID]["producedBy"] == prepare_run
    assert read[TRAINING_ID]["observedVersion"] == prepared
    assert TRAINING_ID not in answer["sources"]


def test_impact_of_the_version_a_label_stood_for_reaches_the_runs_that_read_the_label(
    store: LineageStore, events: Events
) -> None:
    prepared = store.ml.run_record(run_of(events, "prepare"))["outputs"][TRAINING_ID]

    answer = store.ml.impact(TRAINING_ID, prepared)

    assert {s["runId"] for s in answer["steps"]} == {run_of(events, "train"), run_of(events, "train_two")}
    assert {(m["id"], m["version"]) for m in answer["models"]} == {
        (MODEL_ID, "m1"),
        ("dataset:file:/srv/casual/a.pkl", "a1"),
        ("dataset:file:/srv/casual/b.pkl", "b1"),
    }
    read = {i["id"]: i for s in answer["steps"] for i in s["inputs"] if s["runId"] == run_of(events, "train")}
    assert read[TRAINING_ID]["observedVersion"] == prepared
    assert store.ml.impact(LATE_ID, store.describe(LATE_ID)["currentVersion"])["steps"] == []  # read before


def test_inputs_no_run_produced_are_named_for_what_they_are(store: LineageStore) -> None:
    answer = store.ml.provenance(MODEL_ID)
    read = {i["id"]: i for i in answer["steps"][0]["inputs"]}

    # nothing recorded writes the external file: a raw source
    assert (read[EXTERNAL_ID]["producedBy"], read[EXTERNAL_ID]["origin"]) == (None, "source")
    assert answer["sources"] == [EXTERNAL_ID]
    # refresh wrote late.csv only after train had read it
    assert (read[LATE_ID]["producedBy"], read[LATE_ID]["origin"]) == (None, "unproduced")
    assert answer["unproducedInputs"] == [f"{LATE_ID} @ v9"]
    text = reports.provenance_text(answer)
    assert f"read {LATE_ID} @ v9, no recorded run produced this version" in text
    assert f"read {EXTERNAL_ID} @ 2024-06, a source (no recorded run writes this dataset)" in text
    assert f"read {TRAINING_ID} @ v1, made by run" in text


def test_the_cli_shows_metrics_and_followed_labels(
    store_url: str, store: LineageStore, tmp_path: Path
) -> None:
    models = cli("models", "--store-url", store_url)
    provenance = cli("provenance", MODEL_ID, "--store-url", store_url)
    audit = cli("audit", MODEL_ID, "--store-url", store_url)

    assert models.returncode == provenance.returncode == audit.returncode == 0, models.stderr
    assert f"{MODEL_ID}  version m1  (scikit-learn)\n  metrics: accuracy=0.91, f1=0.88" in models.stdout
    assert "the label v1 stands for version" in provenance.stdout
    assert "read at a version no recorded run produced: " + f"{LATE_ID} @ v9" in provenance.stdout
    assert "accuracy" in audit.stdout and "0.91" in audit.stdout
    assert "(as version " in audit.stdout and "no recorded run produced this version" in audit.stdout

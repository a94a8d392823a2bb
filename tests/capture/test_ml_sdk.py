"""The ML SDK in real tasks (dag.test()): what it logs rides on the task's own COMPLETE event, typed
and valid OpenLineage; every task event carries the reproducibility record; outside a task it is a
no-op; bad arguments raise in the caller."""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any

import pytest

from airflow_lineage_provider import ml
from airflow_lineage_provider.capture import machine, pending
from airflow_lineage_provider.core.digests import distributions_hash
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from tests.capture.conftest import DAGS, Events, run_dag
from tests.conftest import REPO
from tests.spec import validate_event

DAG_ID = "capture_ml"
MODEL = ("file", "/srv/ml/model.pkl")
FEATURES = ("file", "/srv/ml/features.csv")
METRICS = ("file", "/srv/ml/model.pkl.metrics")


@pytest.fixture(scope="module")
def run(airflow_db: Any) -> tuple[Events, Any]:
    emitter = AccumulatingEmitter()
    dag_run = run_dag("capture_ml", "capture_ml_dag", emitter, env={"IMAGE_DIGEST": "sha256:" + "c" * 64})
    return Events(emitter.dicts()), dag_run


@pytest.fixture(scope="module")
def events(run: tuple[Events, Any]) -> Events:
    return run[0]


def _by_name(datasets: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["namespace"], d["name"]): d for d in datasets}


def test_every_event_with_ml_facets_matches_the_openlineage_schema_and_ours(events: Events) -> None:
    assert any(
        "airflowLineage_model" in d.get("facets", {}) for e in events.all for d in e.get("outputs") or []
    )
    for event in events.all:
        validate_event(event)


def test_logged_model_metrics_and_input_are_on_the_complete_event_of_the_same_run(events: Events) -> None:
    start = events.one(f"{DAG_ID}.train", "START")
    complete = events.one(f"{DAG_ID}.train", "COMPLETE")
    outputs, inputs = _by_name(complete["outputs"]), _by_name(complete["inputs"])

    assert start["run"]["runId"] == complete["run"]["runId"]
    assert len(events.of(f"{DAG_ID}.train")) == 2  # no second run for the SDK's datasets
    model = outputs[MODEL]["facets"]
    assert model["datasetType"]["datasetType"] == "MODEL"
    assert model["version"]["datasetVersion"] == "3"
    assert {k: v for k, v in model["airflowLineage_model"].items() if not k.startswith("_")} == {
        "name": "risk",
        "version": "3",
        "framework": "scikit-learn",
        "hyperparameters": {"C": 0.5, "layers": [8, 4]},
        "labels": {"team": "risk"},
    }
    metrics = outputs[METRICS]["facets"]
    assert metrics["datasetType"]["datasetType"] == "METRICS"
    assert metrics["airflowLineage_metrics"]["values"] == {"accuracy": 0.9, "auc": 0.95}
    assert metrics["airflowLineage_metrics"]["model"] == {
        "namespace": "file",
        "name": MODEL[1],
        "version": "3",
    }
    features = inputs[FEATURES]
    assert features["facets"]["version"]["datasetVersion"] == "f1"
    assert features["inputFacets"]["airflowLineage_input"]["query"] == "SELECT * FROM features"
    assert complete["job"]["facets"]["sql"]["query"] == "SELECT * FROM features"


def test_a_deployment_is_written_by_the_task_that_read_the_model_version_it_deployed(
    run: tuple[Events, Any], events: Events
) -> None:
    complete = events.one(f"{DAG_ID}.deploy", "COMPLETE")
    (deployment,) = complete["outputs"]
    (model,) = complete["inputs"]

    assert (deployment["namespace"], deployment["name"]) == ("ml-deployments", "staging/risk-api")
    assert deployment["facets"]["datasetType"]["datasetType"] == "DEPLOYMENT"
    facet = {
        k: v for k, v in deployment["facets"]["airflowLineage_deployment"].items() if not k.startswith("_")
    }
    deployed_at = facet.pop("deployedAt")
    assert facet == {
        "model": {"namespace": "file", "name": MODEL[1], "version": "3"},
        "target": "risk-api",
        "environment": "staging",
        "traffic": 0.25,
        # the user who triggered the run (dag.test() names one), else the task's owner
        "deployedBy": getattr(run[1], "triggering_user_name", None) or "airflow",
    }
    assert complete["eventTime"][:10] == deployed_at[:10]
    assert (model["namespace"], model["name"], model["facets"]["version"]["datasetVersion"]) == (*MODEL, "3")


def test_a_task_that_logs_nothing_gets_no_ml_datasets(events: Events) -> None:
    complete = events.one(f"{DAG_ID}.plain", "COMPLETE")

    assert complete["inputs"] == [] and complete["outputs"] == []
    assert complete["run"]["facets"]["airflowLineage_reproducibility"]["seeds"] == []


def test_the_reproducibility_record_names_code_environment_hardware_params_and_seeds(events: Events) -> None:
    record = events.one(f"{DAG_ID}.train", "COMPLETE")["run"]["facets"]["airflowLineage_reproducibility"]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    dag_file = DAGS / "capture_ml.py"

    assert record["code"]["dagFile"] == str(dag_file)
    assert record["code"]["dagFileHash"] == machine.file_hash(str(dag_file))
    assert record["code"]["git"]["commit"] == head.stdout.strip()
    # whether the tree is dirty is added on delivery (tests/core/test_gitstate.py), not in the task
    assert set(record["code"]["git"]) == {"repository", "commit"}
    assert record["environment"]["python"] == platform.python_version()
    assert record["environment"]["imageDigest"] == "sha256:" + "c" * 64
    listed = record["environment"]["distributions"]
    assert record["environment"]["distributionsHash"] == distributions_hash(listed)
    assert any(d.startswith("apache-airflow==") for d in listed)
    assert record["hardware"]["cpuCount"] == os.cpu_count()
    assert record["params"] == {"C": 0.5}
    assert record["seeds"] == [{"seed": 7, "libraries": ml.set_seed(7)}]


def test_a_bad_sdk_argument_fails_its_task_with_a_clear_message(
    run: tuple[Events, Any], events: Events
) -> None:
    (ti,) = [ti for ti in run[1].get_task_instances() if ti.task_id == "bad_seed"]
    fail = events.one(f"{DAG_ID}.bad_seed", "FAIL")

    assert str(ti.state) == "failed"
    assert (
        "seed must be an integer from 0 to 4294967295, not -1"
        in fail["run"]["facets"]["errorMessage"]["message"]
    )


def test_outside_a_task_the_sdk_records_nothing_and_still_answers() -> None:
    before = dict(pending._pending)

    logged = ml.log_model("s3://models/churn", version="7")
    ml.log_metrics({"accuracy": 1}, model=logged)
    ml.log_dataset("file:///data/in.csv")

    assert logged == ml.Logged("s3://models", "churn", "7")
    assert logged.node_id == "dataset:s3://models:churn"
    assert pending._pending == before


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ml.log_dataset("features.csv"), "must be a URI with a scheme"),
        (lambda: ml.log_dataset(""), "uri must be a non-empty string"),
        (lambda: ml.log_model("s3://m/x", version=""), "version must be a non-empty string"),
        (
            lambda: ml.log_model("s3://m/x", hyperparameters={"f": object()}),
            r"hyperparameters\['f'\] must be JSON",
        ),
        (lambda: ml.log_model("s3://m/x", hyperparameters={"f": float("inf")}), "must be a finite number"),
        (lambda: ml.log_model("s3://m/x", labels={"team": 3}), "labels must map strings to strings"),
        (lambda: ml.log_metrics({}), "values must be a non-empty mapping"),
        (lambda: ml.log_metrics({"acc": float("nan")}), "metric 'acc' must be a finite number"),
        (lambda: ml.log_metrics({"acc": True}), "metric 'acc' must be a number"),
        (lambda: ml.log_metrics({"acc": 1}, model=3), "model must be a URI or what log_dataset"),
        (lambda: ml.set_seed(2**32), "seed must be an integer from 0 to 4294967295"),
        (lambda: ml.log_deployment("s3://m/x", target="api"), r"the version of model dataset:s3://m:x"),
        (lambda: ml.log_deployment("s3://m/x", version="1", target=""), "target must be a non-empty string"),
        (
            lambda: ml.log_deployment("s3://m/x", version="1", target="a", traffic=1.5),
            "traffic must be a share",
        ),
        (lambda: ml.log_deployment(None, target="a"), "model must be a URI"),  # type: ignore[arg-type]
        (lambda: ml.set_seed(1.5), "seed must be an integer"),
    ],
)
def test_bad_arguments_raise_a_clear_error(call: Any, message: str) -> None:
    with pytest.raises(ml.MLArgumentError, match=message):
        call()


def test_set_seed_seeds_python_random_and_whatever_else_is_installed() -> None:
    import importlib.util
    import random

    seeded = ml.set_seed(123)
    first = random.random()
    ml.set_seed(123)

    assert random.random() == first
    expected = ["random"] + [m for m in ("numpy", "torch") if importlib.util.find_spec(m) is not None]
    assert seeded == expected


def test_what_a_skipped_task_logged_is_dropped_not_kept_or_sent(
    run: tuple[Events, Any], events: Events
) -> None:
    (ti,) = [ti for ti in run[1].get_task_instances() if ti.task_id == "skipped"]
    key = pending.run_key(ti)

    assert str(ti.state) == "skipped"
    assert key not in pending._pending
    assert all(d["name"] != "/srv/ml/never.pkl" for e in events.all for d in e.get("outputs") or [])

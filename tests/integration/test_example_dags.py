"""Each example DAG runs in real Airflow (``airflow dags test``) and its captured lineage is exactly the
lineage written next to it in ``dags/<dag>.expected.json``, on a SQLite and on a PostgreSQL store.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

DAGS = REPO / "dags"
BIN = Path(sys.executable).parent
EXAMPLES = ("lineage_example_etl", "lineage_example_ml")
JOB_NAMESPACE = "airflow"

Dataset = tuple[str, str]  # (namespace, name)
FieldEdge = tuple[str, str, str, str, str, str]  # output ns, name, field <- input ns, name, field


@dataclass(frozen=True)
class ExampleRun:
    """Where one backend's run of every example DAG put its data and its lineage."""

    store_url: str
    db_path: Path
    data_dir: Path
    env: dict[str, str]

    @property
    def placeholders(self) -> dict[str, str]:
        return {"{db}": str(self.db_path), "{data_dir}": str(self.data_dir)}


def substitute(value: Any, placeholders: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in placeholders.items():
            value = value.replace(key, replacement)
        return value
    if isinstance(value, list):
        return [substitute(v, placeholders) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, placeholders) for k, v in value.items()}
    return value


def expected_lineage(dag_id: str, run: ExampleRun) -> dict[str, Any]:
    raw = json.loads((DAGS / f"{dag_id}.expected.json").read_text(encoding="utf-8"))
    assert raw["dag_id"] == dag_id
    expected: dict[str, Any] = substitute(raw, run.placeholders)
    return expected


def expected_field_edges(job: dict[str, Any]) -> set[FieldEdge]:
    return {
        (
            entry["dataset"]["namespace"],
            entry["dataset"]["name"],
            out,
            src["namespace"],
            src["name"],
            src["field"],
        )
        for entry in job["column_lineage"]
        for out, sources in entry["fields"].items()
        for src in sources
    }


def run_airflow(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "airflow"), *args], capture_output=True, text=True, timeout=600, env=env, cwd=cwd
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def example_run(
    request: pytest.FixtureRequest, airflow_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExampleRun]:
    """Both example DAGs run once with ``airflow dags test`` into a fresh store of one backend."""
    work = tmp_path_factory.mktemp(f"examples-{request.param}")
    schema = None
    if request.param == "sqlite":
        store_url = f"sqlite:///{work / 'lineage.db'}"
    else:
        from sqlalchemy import create_engine, text

        base = request.getfixturevalue("postgres_url")
        schema = f"examples_{uuid.uuid4().hex[:8]}"
        engine = create_engine(base)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        store_url = f"{base}?options=-csearch_path={schema}"
    db_path = work / "example.db"
    run = ExampleRun(
        store_url=store_url,
        db_path=db_path,
        data_dir=work / "data",
        env={
            **os.environ,
            "AIRFLOW_HOME": str(airflow_db),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": store_url,
            "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(work / "outbox"),  # never another test's events
            "AIRFLOW_CONN_LINEAGE_EXAMPLE_SQLITE": json.dumps({"conn_type": "sqlite", "host": str(db_path)}),
            "LINEAGE_EXAMPLE_DATA_DIR": str(work / "data"),
        },
    )
    for dag_id in EXAMPLES:
        result = run_airflow(["dags", "test", dag_id], run.env, work)
        (work / f"{dag_id}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        assert result.returncode == 0, (
            f"airflow dags test {dag_id} failed:\n{(result.stdout + result.stderr)[-6000:]}"
        )
    yield run
    if schema is not None:
        from sqlalchemy import create_engine, text

        engine = create_engine(request.getfixturevalue("postgres_url"))
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def store(example_run: ExampleRun) -> Iterator[Any]:
    from airflow_lineage_provider import LineageStore

    lineage_store = LineageStore.from_url(example_run.store_url)
    yield lineage_store
    lineage_store.close()


def job_io(store: Any, job_name: str) -> tuple[set[Dataset], set[Dataset]]:
    """Datasets the graph says a job read and wrote (edges next to the job node)."""
    job_id = f"job:{JOB_NAMESPACE}:{job_name}"
    graph = store.lineage(job_id, direction="both", depth=1)

    def dataset(node_id: str) -> Dataset:
        node = graph.node(node_id)
        assert node is not None and node.type == "dataset", f"{node_id} next to {job_id} is not a dataset"
        return (node.namespace, node.name)

    inputs = {dataset(e.source) for e in graph.edges if e.target == job_id}
    outputs = {dataset(e.target) for e in graph.edges if e.source == job_id}
    return inputs, outputs


def captured_field_edges(store: Any, job_name: str) -> set[FieldEdge]:
    """Column lineage in the raw events the listener sent for one job (OpenLineage columnLineage facets)."""
    edges: set[FieldEdge] = set()
    for event in store.events():
        job = event.get("job") or {}
        if (job.get("namespace"), job.get("name")) != (JOB_NAMESPACE, job_name):
            continue
        for output in event.get("outputs") or []:
            fields = ((output.get("facets") or {}).get("columnLineage") or {}).get("fields") or {}
            for out, lineage in fields.items():
                for src in lineage.get("inputFields") or []:
                    edges.add(
                        (
                            output["namespace"],
                            output["name"],
                            out,
                            src["namespace"],
                            src["name"],
                            src["field"],
                        )
                    )
    return edges


def stored_field_edges(store: Any, dataset: Dataset) -> set[FieldEdge]:
    """Column lineage as the store answers it for one dataset."""
    namespace, name = dataset
    return {
        (namespace, name, row["field"], src["namespace"], src["name"], src["field"])
        for row in store.column_lineage(f"dataset:{namespace}:{name}")
        for src in row["inputFields"]
    }


@pytest.mark.parametrize("dag_id", EXAMPLES)
def test_expected_file_lists_every_task_of_the_dag(dag_id: str, example_run: ExampleRun) -> None:
    result = run_airflow(["tasks", "list", dag_id], example_run.env, example_run.data_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    tasks = {line.strip() for line in result.stdout.splitlines() if line.strip() and " " not in line.strip()}

    expected = expected_lineage(dag_id, example_run)

    assert set(expected["jobs"]) == {f"{dag_id}.{task}" for task in tasks}
    assert expected["job_namespace"] == JOB_NAMESPACE


@pytest.mark.parametrize("dag_id", EXAMPLES)
def test_captured_inputs_and_outputs_of_every_task_are_the_expected_ones(
    dag_id: str, example_run: ExampleRun, store: Any
) -> None:
    expected = expected_lineage(dag_id, example_run)
    problems = []
    for job_name, job in expected["jobs"].items():
        want_in = {(d["namespace"], d["name"]) for d in job["inputs"]}
        want_out = {(d["namespace"], d["name"]) for d in job["outputs"]}
        got_in, got_out = job_io(store, job_name)
        if (got_in, got_out) != (want_in, want_out):
            problems.append(
                f"{job_name}:\n  inputs  expected {sorted(want_in)}\n          got      {sorted(got_in)}"
                f"\n  outputs expected {sorted(want_out)}\n          got      {sorted(got_out)}"
            )

    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("dag_id", EXAMPLES)
def test_captured_column_lineage_is_the_expected_one(
    dag_id: str, example_run: ExampleRun, store: Any
) -> None:
    expected = expected_lineage(dag_id, example_run)
    problems = []
    for job_name, job in expected["jobs"].items():
        want = expected_field_edges(job)
        in_events = captured_field_edges(store, job_name)
        in_store = set().union(
            *(stored_field_edges(store, (d["namespace"], d["name"])) for d in job["outputs"])
        )
        for source, got in (("events", in_events), ("store.column_lineage", in_store)):
            if got != want:
                missing, unexpected = sorted(want - got), sorted(got - want)
                problems.append(f"{job_name} ({source}):\n  missing {missing}\n  unexpected {unexpected}")

    assert not problems, "\n".join(problems)


def test_upstream_of_the_etl_report_reaches_both_raw_tables_through_the_tasks(
    example_run: ExampleRun, store: Any
) -> None:
    namespace = f"sqlite://{example_run.db_path}"

    graph = store.lineage(f"dataset:{namespace}:order_report", direction="upstream", depth=10)

    assert {f"dataset:{namespace}:{table}" for table in ("raw_orders", "raw_customers", "clean_orders")} <= (
        graph.node_ids("dataset")
    )
    tasks = ("load_raw_orders", "load_raw_customers", "build_clean_orders", "build_order_report")
    assert {f"job:{JOB_NAMESPACE}:lineage_example_etl.{task}" for task in tasks} <= graph.node_ids("job")


def test_downstream_of_raw_orders_reaches_the_etl_report(example_run: ExampleRun, store: Any) -> None:
    namespace = f"sqlite://{example_run.db_path}"

    graph = store.lineage(f"dataset:{namespace}:raw_orders", direction="downstream", depth=10)

    assert f"dataset:{namespace}:order_report" in graph.node_ids("dataset")
    assert f"job:{JOB_NAMESPACE}:lineage_example_etl.build_order_report" in graph.node_ids("job")
    assert f"dataset:{namespace}:raw_customers" not in graph.node_ids()


def test_upstream_of_the_ml_metrics_reaches_the_raw_measurements(example_run: ExampleRun, store: Any) -> None:
    data = example_run.data_dir

    graph = store.lineage(f"dataset:file:{data}/metrics.json", direction="upstream", depth=10)

    assert {
        f"dataset:file:{data}/{name}" for name in ("raw_measurements.csv", "features.csv", "model.pkl")
    } <= (graph.node_ids("dataset"))


def test_cli_upstream_reads_the_store_from_airflow_config(example_run: ExampleRun) -> None:
    node = f"dataset:sqlite://{example_run.db_path}:order_report"

    result = subprocess.run(
        [str(BIN / "airflow-lineage"), "upstream", node, "--depth", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        env=example_run.env,
        cwd=example_run.data_dir,
    )

    assert result.returncode == 0, result.stderr
    assert "[job] lineage_example_etl.build_clean_orders  (airflow)" in result.stdout
    assert "[dataset] raw_orders" in result.stdout and "[dataset] raw_customers" in result.stdout


# -- the ML example's model answers the five model queries (provenance, impact, reproducible, diff, as-of)


def _ml_ids(example_run: ExampleRun) -> dict[str, str]:
    data = example_run.data_dir
    return {
        name: f"dataset:file:{data}/{name}"
        for name in ("raw_measurements.csv", "features.csv", "model.pkl", "metrics.json", "predictions.csv")
    }


def _task_run(store: Any, task: str) -> str:
    job = store.describe(f"job:{JOB_NAMESPACE}:lineage_example_ml.{task}")
    (run,) = [r for r in job["latestRuns"] if r["state"] == "COMPLETED"]
    return str(run["runId"])


def test_the_ml_example_logs_its_model_as_the_expected_typed_model(
    example_run: ExampleRun, store: Any
) -> None:
    expected = expected_lineage("lineage_example_ml", example_run)["models"]
    (want,) = expected
    model_id = want["id"]

    models = {m["id"]: m for m in store.ml.models()}

    assert set(models) == {model_id}
    assert models[model_id]["framework"] == want["framework"]
    facet = store.describe(model_id)["facets"]["airflowLineage_model"]
    assert facet["name"] == want["name"] and facet["hyperparameters"]["n_estimators"] == 50
    with open(example_run.data_dir / "model.pkl", "rb") as stream:
        assert models[model_id]["currentVersion"] == hashlib.sha256(stream.read()).hexdigest()[:16]


def test_provenance_of_a_prediction_goes_through_the_model_version_to_the_raw_source(
    example_run: ExampleRun, store: Any
) -> None:
    (expected,) = expected_lineage("lineage_example_ml", example_run)["provenance"]
    target, jobs = expected["of"], expected["jobs"]
    ids = _ml_ids(example_run)

    answer = store.ml.provenance(target)

    assert sorted(s["job"] for s in answer["steps"]) == sorted(f"job:{JOB_NAMESPACE}:{j}" for j in jobs)
    made_by = {s["runId"]: s for s in answer["steps"]}
    chain, step = [], answer["steps"][0]  # prediction -> model -> training data -> raw source
    for read in (ids["model.pkl"], ids["features.csv"], ids["raw_measurements.csv"]):
        chain.append(step["job"])
        (used,) = [i for i in step["inputs"] if i["id"] == read]
        step = made_by[used["producedBy"]]
    chain.append(step["job"])
    assert chain == [
        f"job:{JOB_NAMESPACE}:lineage_example_ml.{t}" for t in ("score", "train", "features", "ingest")
    ]
    score_inputs = {i["id"]: i for i in answer["steps"][0]["inputs"]}
    model = store.describe(ids["model.pkl"])
    assert score_inputs[ids["model.pkl"]]["version"] == model["currentVersion"]
    assert score_inputs[ids["model.pkl"]]["producedBy"] == _task_run(store, "train")
    versions = {
        line.rsplit(",", 1)[1]
        for line in (example_run.data_dir / "predictions.csv").read_text().splitlines()[1:]
    }
    assert versions == {model["currentVersion"]}
    assert answer["unversionedInputs"] == []


def test_impact_of_the_raw_data_version_is_the_model_with_its_training_run(
    example_run: ExampleRun, store: Any
) -> None:
    ids = _ml_ids(example_run)
    raw_version = store.describe(ids["raw_measurements.csv"])["currentVersion"]

    answer = store.ml.impact(ids["raw_measurements.csv"], version=raw_version)

    assert [(m["id"], m["runId"], m["job"]) for m in answer["models"]] == [
        (ids["model.pkl"], _task_run(store, "train"), f"job:{JOB_NAMESPACE}:lineage_example_ml.train")
    ]
    assert _task_run(store, "score") in {s["runId"] for s in answer["steps"]}


def test_the_example_model_reproducibility_checklist(example_run: ExampleRun, store: Any) -> None:
    ids = _ml_ids(example_run)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    clean = not status.stdout.strip()

    answer = store.ml.reproducible(ids["model.pkl"])

    checks = {c["check"]: c for c in answer["checks"]}
    assert answer["runId"] == _task_run(store, "train")
    for name in ("DAG file identified", "environment recorded", "inputs versioned", "seed recorded"):
        assert checks[name]["ok"], checks[name]
    assert checks["seed recorded"]["detail"] == "seeds 42"
    assert checks["code pinned and clean"]["ok"] is clean
    assert answer["reproducible"] is clean


def test_diff_of_two_tasks_of_one_dag_run_differs_in_data_not_in_code_or_environment(
    example_run: ExampleRun, store: Any
) -> None:
    ids = _ml_ids(example_run)

    answer = store.ml.diff(_task_run(store, "train"), _task_run(store, "score"))

    d = answer["differences"]
    assert d["code"] == [] and d["environment"] == [] and d["hardware"] == [] and d["params"] == []
    # both read the same features version; only score read the model
    assert [(c["key"], c["a"]) for c in d["inputs"]] == [(ids["model.pkl"], None)]
    assert d["seeds"] == [{"key": "seed[0]", "a": {"seed": 42, "libraries": ml_seeded()}, "b": None}]


def ml_seeded() -> list[str]:
    import importlib.util

    return ["random"] + [m for m in ("numpy", "torch") if importlib.util.find_spec(m) is not None]


def test_as_of_the_training_run_the_predictions_had_no_lineage_yet(
    example_run: ExampleRun, store: Any
) -> None:
    ids = _ml_ids(example_run)
    train = _task_run(store, "train")

    before = store.lineage(ids["predictions.csv"], direction="upstream", depth=10, as_of=f"run:{train}")
    now = store.lineage(ids["predictions.csv"], direction="upstream", depth=10)

    assert before.node_ids() == {ids["predictions.csv"]}
    assert ids["raw_measurements.csv"] in now.node_ids()
    as_of_score = store.ml.provenance(ids["model.pkl"], as_of=f"run:{_task_run(store, 'score')}")
    assert as_of_score["version"] == store.describe(ids["model.pkl"])["currentVersion"]


def test_approving_the_example_model_shows_in_its_audit_with_its_metrics_and_a_verified_chain(
    example_run: ExampleRun, store: Any
) -> None:
    ids = _ml_ids(example_run)
    written = json.loads((example_run.data_dir / "metrics.json").read_text(encoding="utf-8"))

    store.ml.approve(ids["model.pkl"], "risk-officer", "backtest within tolerance", "sr-11-7")
    audit = store.ml.audit(ids["model.pkl"])

    assert [a["approvedBy"] for a in audit["approvals"]] == ["risk-officer"]
    assert audit["approvals"][0]["version"] == audit["version"]
    (metrics,) = audit["metrics"]
    assert metrics["id"] == ids["metrics.json"] and metrics["values"] == {
        "rmse": written["rmse"],
        "r2": written["r2"],
    }
    assert audit["training"]["params"] == {} and audit["chain"]["ok"]
    assert store.verify().ok


def test_verify_artifacts_catches_a_training_file_edited_by_hand(example_run: ExampleRun, store: Any) -> None:
    ids = _ml_ids(example_run)
    features = example_run.data_dir / "features.csv"
    kept = features.read_bytes()

    before = store.ml.verify_artifacts(ids["model.pkl"])
    try:
        features.write_bytes(kept + b"0.0,0.0\n")
        after = store.ml.verify_artifacts(ids["model.pkl"])
        checks = {c["check"]: c for c in store.ml.reproducible(ids["model.pkl"])["checks"]}
    finally:
        features.write_bytes(kept)

    def status(answer: dict[str, Any]) -> dict[str, str]:
        return {a["id"]: a["status"] for a in answer["artifacts"]}

    assert before["ok"] and status(before)[ids["features.csv"]] == "matches"
    assert status(before)[ids["model.pkl"]] == "matches"
    assert not after["ok"] and status(after)[ids["features.csv"]] == "changed"
    assert checks["inputs still byte-identical"]["ok"] is False

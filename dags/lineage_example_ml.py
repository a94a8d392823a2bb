"""Example ML pipeline: Airflow Assets (file:// URIs) as inlets/outlets, plus the ML SDK.

    ingest -> features -> train -> evaluate -> deploy -> score
    raw_measurements.csv -> features.csv -> model.pkl -> metrics.json, a deployment, predictions.csv

A real scikit-learn model on a generated data set (no download): ``ingest`` writes 200 house-price
measurements from ``random.Random(42)``; ``features`` standardises them with ``StandardScaler`` and
fixes an 80/20 train/test split; ``train`` fits a ``RandomForestRegressor``, pickles it and logs it
with ``ml.log_model`` (typed MODEL, versioned by the pickle's content hash, with its
hyperparameters and the seed declared by ``ml.set_seed``); ``evaluate`` logs RMSE and R² of that
exact model version; ``deploy`` records its deployment to a serving target (``ml.log_deployment``),
which ``docs/serve_model.py`` serves, tracing each answer back; ``score`` writes predictions with the
model version it read, so "prediction -> model -> training data -> raw source" is one provenance
query (``airflow-lineage provenance``).
Every task run also carries a reproducibility record, captured without any code here.

Files live in ``LINEAGE_EXAMPLE_DATA_DIR`` (default ``$AIRFLOW_HOME/lineage_example_data``), read
when the DAG file is parsed, so the scheduler, the workers and ``airflow dags test`` must see the
same value. The lineage this DAG must produce is in ``lineage_example_ml.expected.json`` next to
this file; a test compares.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import pickle
import random
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, task

from airflow_lineage_provider import ml

DATA_DIR = os.path.abspath(
    os.environ.get("LINEAGE_EXAMPLE_DATA_DIR")
    or os.path.join(os.path.expanduser(os.environ.get("AIRFLOW_HOME") or "~/airflow"), "lineage_example_data")
)
FEATURE_NAMES = ["area_m2", "rooms", "age_years"]
TARGET = "price_k"
SEED = 42


def _asset(file_name: str) -> Asset:
    # No explicit name: Airflow keys assets by name, so a name shared by two data directories would
    # leave the asset of the first one "inactive" (and its tasks failing) once the directory changes.
    return Asset(uri="file://" + os.path.join(DATA_DIR, file_name))


RAW = _asset("raw_measurements.csv")
FEATURES = _asset("features.csv")
MODEL = _asset("model.pkl")
METRICS = _asset("metrics.json")
PREDICTIONS = _asset("predictions.csv")


def _path(asset: Asset) -> str:
    return asset.uri.removeprefix("file://")


def _read_csv(asset: Asset) -> list[dict[str, str]]:
    with open(_path(asset), newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _write(asset: Asset, data: str | bytes) -> None:
    os.makedirs(os.path.dirname(_path(asset)), exist_ok=True)
    if isinstance(data, bytes):
        with open(_path(asset), "wb") as binary:
            binary.write(data)
        return
    with open(_path(asset), "w", encoding="utf-8", newline="") as stream:
        stream.write(data)


def _split(split: str) -> tuple[list[list[float]], list[float]]:
    """The feature matrix and the target of one split of ``features.csv``."""
    rows = [row for row in _read_csv(FEATURES) if row["split"] == split]
    return [[float(row[n]) for n in FEATURE_NAMES] for row in rows], [float(row[TARGET]) for row in rows]


def _load_model() -> tuple[Any, str]:
    """The pickled model and its version: the hash of the file, so the same bytes are the same version."""
    with open(_path(MODEL), "rb") as stream:
        data = stream.read()
    return pickle.loads(data), hashlib.sha256(data).hexdigest()[:16]


with DAG(
    dag_id="lineage_example_ml",
    description="Assets-driven ML pipeline with scikit-learn: ingest, features, train, evaluate, deploy, "
    "score",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    schedule=None,
    catchup=False,
    tags=["lineage-example", "ml"],
) as dag:

    @task(outlets=[RAW])
    def ingest() -> int:
        """Generate 200 deterministic house-price measurements."""
        rng = random.Random(42)
        lines = [",".join(["house_id", *FEATURE_NAMES, TARGET])]
        for house in range(200):
            area = rng.uniform(35, 220)
            rooms = rng.randint(1, 7)
            age = rng.uniform(0, 80)
            price = 40 + 2.1 * area + 12.5 * rooms - 0.9 * age + rng.gauss(0, 15)
            lines.append(f"{house},{area:.1f},{rooms},{age:.1f},{price:.2f}")
        _write(RAW, "\n".join(lines) + "\n")
        return len(lines) - 1

    @task(inlets=[RAW], outlets=[FEATURES])
    def features() -> int:
        """Standardise the features (scikit-learn's StandardScaler) and fix an 80/20 train/test split."""
        from sklearn.preprocessing import StandardScaler

        rows = _read_csv(RAW)
        scaled = StandardScaler().fit_transform([[float(row[n]) for n in FEATURE_NAMES] for row in rows])
        lines = [",".join(["house_id", *FEATURE_NAMES, TARGET, "split"])]
        for row, values in zip(rows, scaled, strict=True):
            split = "test" if int(row["house_id"]) % 5 == 0 else "train"
            lines.append(",".join([row["house_id"], *(f"{v:.6f}" for v in values), row[TARGET], split]))
        _write(FEATURES, "\n".join(lines) + "\n")
        return len(rows)

    @task(inlets=[FEATURES], outlets=[MODEL])
    def train() -> dict[str, Any]:
        """A random forest on the train split, pickled and logged as a model version."""
        from sklearn import __version__ as sklearn_version
        from sklearn.ensemble import RandomForestRegressor

        ml.set_seed(SEED)  # seeds random and NumPy, and records the seed in this run's lineage
        x, y = _split("train")
        model = RandomForestRegressor(n_estimators=50, max_depth=8, random_state=SEED, n_jobs=1)
        model.fit(x, y)
        _write(MODEL, pickle.dumps(model, protocol=5))
        version = _load_model()[1]
        ml.log_model(
            MODEL.uri,
            name="house-prices",
            version=version,
            framework="scikit-learn",
            hyperparameters={**model.get_params(), "features": FEATURE_NAMES, "target": TARGET},
            labels={"team": "pricing", "estimator": type(model).__name__, "scikit-learn": sklearn_version},
        )
        return {"version": version, "trainRows": len(y)}

    @task(inlets=[FEATURES, MODEL], outlets=[METRICS])
    def evaluate() -> dict[str, float]:
        """RMSE and R² of the model on the held-out test split."""
        from sklearn.metrics import mean_squared_error, r2_score

        estimator, version = _load_model()
        model = ml.log_dataset(MODEL.uri, version=version)  # the exact version evaluated
        x, actual = _split("test")
        predicted = estimator.predict(x)
        rmse = float(mean_squared_error(actual, predicted)) ** 0.5
        metrics = {"rmse": round(rmse, 4), "r2": round(float(r2_score(actual, predicted)), 4)}
        _write(METRICS, json.dumps({**metrics, "testRows": len(actual)}, indent=2) + "\n")
        ml.log_metrics(metrics, model=model, dataset=FEATURES.uri, uri=METRICS.uri)
        return metrics

    @task(inlets=[MODEL])
    def deploy() -> str:
        """Deploy the evaluated model version to a (pretend) serving target, recorded as a deployment
        downstream of that exact version; docs/serve_model.py is the service that serves it."""
        version = _load_model()[1]
        ml.log_deployment(MODEL.uri, version=version, target="house-prices-api", environment="staging")
        return version

    @task(inlets=[FEATURES, MODEL], outlets=[PREDICTIONS])
    def score() -> int:
        """Batch scoring: a prediction for every house, stamped with the model version that made it."""
        estimator, version = _load_model()
        ml.log_dataset(MODEL.uri, version=version)
        rows = _read_csv(FEATURES)
        predicted = estimator.predict([[float(row[n]) for n in FEATURE_NAMES] for row in rows])
        lines = ["house_id,predicted_price_k,model_version"]
        lines += [f"{row['house_id']},{p:.2f},{version}" for row, p in zip(rows, predicted, strict=True)]
        _write(PREDICTIONS, "\n".join(lines) + "\n")
        return len(rows)

    ingest() >> features() >> train() >> evaluate() >> deploy() >> score()

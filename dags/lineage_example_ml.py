"""Example ML pipeline: Airflow Assets (file:// URIs) as inlets/outlets, plus the ML SDK.

    ingest -> features -> train -> evaluate -> score
    raw_measurements.csv -> features.csv -> model.json -> metrics.json, predictions.csv

``train`` seeds its randomness and logs the model with ``ml.log_model`` (typed MODEL, versioned by
its content hash, with hyperparameters); ``evaluate`` logs metrics of that exact model version;
``score`` writes predictions with the model version it read, so "prediction -> model -> training
data -> raw source" is one provenance query (``airflow-lineage provenance``). Every task run also
carries a reproducibility record, captured without any code here.

Pure Python, no ML library: deterministic data from ``random.Random(42)`` and a least-squares
linear model solved with the normal equations (with a seeded shuffle of the training rows). Files
live in ``LINEAGE_EXAMPLE_DATA_DIR`` (default ``$AIRFLOW_HOME/lineage_example_data``), read when
the DAG file is parsed, so the scheduler, the workers and ``airflow dags test`` must see the same
value. The lineage this DAG must produce is in ``lineage_example_ml.expected.json`` next to this
file; a test compares.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
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


def _asset(file_name: str) -> Asset:
    # No explicit name: Airflow keys assets by name, so a name shared by two data directories would
    # leave the asset of the first one "inactive" (and its tasks failing) once the directory changes.
    return Asset(uri="file://" + os.path.join(DATA_DIR, file_name))


RAW = _asset("raw_measurements.csv")
FEATURES = _asset("features.csv")
MODEL = _asset("model.json")
METRICS = _asset("metrics.json")
PREDICTIONS = _asset("predictions.csv")


def _path(asset: Asset) -> str:
    return asset.uri.removeprefix("file://")


def _read_csv(asset: Asset) -> list[dict[str, str]]:
    with open(_path(asset), newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _write(asset: Asset, text: str) -> None:
    os.makedirs(os.path.dirname(_path(asset)), exist_ok=True)
    with open(_path(asset), "w", encoding="utf-8", newline="") as stream:
        stream.write(text)


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the system is tiny: one row per feature + 1)."""
    n = len(vector)
    rows = [list(matrix[i]) + [vector[i]] for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def _model_version() -> str:
    """A model's version is the hash of its file: the same bytes are the same version."""
    with open(_path(MODEL), "rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()[:16]


def _weights(model: dict[str, Any]) -> list[float]:
    return [float(model["intercept"]), *(float(model["coefficients"][n]) for n in FEATURE_NAMES)]


def _predict(weights: list[float], features: list[float]) -> float:
    return weights[0] + sum(w * x for w, x in zip(weights[1:], features, strict=True))


with DAG(
    dag_id="lineage_example_ml",
    description="Assets-driven ML pipeline: ingest -> features -> train -> evaluate (pure Python)",
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
        """Standardise the features and assign a fixed 80/20 train/test split."""
        rows = _read_csv(RAW)
        stats = {}
        for name in FEATURE_NAMES:
            values = [float(row[name]) for row in rows]
            mean = sum(values) / len(values)
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
            stats[name] = (mean, std)
        lines = [",".join(["house_id", *FEATURE_NAMES, TARGET, "split"])]
        for row in rows:
            scaled = [(float(row[n]) - stats[n][0]) / stats[n][1] for n in FEATURE_NAMES]
            split = "test" if int(row["house_id"]) % 5 == 0 else "train"
            lines.append(",".join([row["house_id"], *(f"{v:.6f}" for v in scaled), row[TARGET], split]))
        _write(FEATURES, "\n".join(lines) + "\n")
        return len(rows)

    @task(inlets=[FEATURES], outlets=[MODEL])
    def train() -> dict[str, float]:
        """Ordinary least squares on the train split (normal equations), logged as a model."""
        ml.set_seed(42)
        rows = [row for row in _read_csv(FEATURES) if row["split"] == "train"]
        random.shuffle(rows)  # the order does not change the solution; the seed makes it repeatable
        design = [[1.0, *(float(row[n]) for n in FEATURE_NAMES)] for row in rows]
        target = [float(row[TARGET]) for row in rows]
        size = len(design[0])
        xtx = [[sum(x[i] * x[j] for x in design) for j in range(size)] for i in range(size)]
        xty = [sum(x[i] * y for x, y in zip(design, target, strict=True)) for i in range(size)]
        weights = _solve(xtx, xty)
        model = {
            "kind": "linear_regression",
            "features": FEATURE_NAMES,
            "target": TARGET,
            "intercept": round(weights[0], 6),
            "coefficients": {n: round(w, 6) for n, w in zip(FEATURE_NAMES, weights[1:], strict=True)},
            "trainedOnRows": len(rows),
        }
        _write(MODEL, json.dumps(model, indent=2) + "\n")
        ml.log_model(
            MODEL.uri,
            name="house-prices",
            version=_model_version(),
            framework="python-ols",
            hyperparameters={"solver": "normal-equations", "features": FEATURE_NAMES, "target": TARGET},
            labels={"team": "pricing"},
        )
        return {"intercept": model["intercept"]}

    @task(inlets=[FEATURES, MODEL], outlets=[METRICS])
    def evaluate() -> dict[str, float]:
        """RMSE and R² of the model on the held-out test split."""
        with open(_path(MODEL), encoding="utf-8") as stream:
            weights = _weights(json.load(stream))
        model = ml.log_dataset(MODEL.uri, version=_model_version())  # the exact version evaluated
        rows = [row for row in _read_csv(FEATURES) if row["split"] == "test"]
        actual = [float(row[TARGET]) for row in rows]
        predicted = [_predict(weights, [float(row[n]) for n in FEATURE_NAMES]) for row in rows]
        mean = sum(actual) / len(actual)
        residual = sum((a - p) ** 2 for a, p in zip(actual, predicted, strict=True))
        total = sum((a - mean) ** 2 for a in actual)
        metrics = {"rmse": round(math.sqrt(residual / len(actual)), 4), "r2": round(1 - residual / total, 4)}
        _write(METRICS, json.dumps({**metrics, "testRows": len(rows)}, indent=2) + "\n")
        ml.log_metrics(metrics, model=model, dataset=FEATURES.uri, uri=METRICS.uri)
        return metrics

    @task(inlets=[FEATURES, MODEL], outlets=[PREDICTIONS])
    def score() -> int:
        """Batch scoring: a prediction for every house, stamped with the model version that made it."""
        with open(_path(MODEL), encoding="utf-8") as stream:
            weights = _weights(json.load(stream))
        version = ml.log_dataset(MODEL.uri, version=_model_version()).version
        lines = ["house_id,predicted_price_k,model_version"]
        for row in _read_csv(FEATURES):
            predicted = _predict(weights, [float(row[n]) for n in FEATURE_NAMES])
            lines.append(f"{row['house_id']},{predicted:.2f},{version}")
        _write(PREDICTIONS, "\n".join(lines) + "\n")
        return len(lines) - 1

    ingest() >> features() >> train() >> evaluate() >> score()

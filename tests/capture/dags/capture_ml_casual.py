"""Test DAG (airflow): the ML SDK called the way people write it, loosely.

``prepare`` writes the training file (an Asset outlet, no version); ``train`` reads it under a label
no run produced (``version="v1"``), reads an external file nothing writes, and logs one model and
metrics without ``model=``; ``train_two`` logs two models and metrics naming neither; ``refresh``
writes a file after ``train`` read it under another label.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

from airflow_lineage_provider import ml

TRAINING = "file:///srv/casual/training.csv"
EXTERNAL = "file:///srv/casual/external.csv"
LATE = "file:///srv/casual/late.csv"
MODEL = "file:///srv/casual/model.pkl"
MODEL_A = "file:///srv/casual/a.pkl"
MODEL_B = "file:///srv/casual/b.pkl"


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False)
def capture_ml_casual() -> None:
    @task(outlets=[Asset(TRAINING)])
    def prepare() -> None:
        return None

    @task
    def train() -> None:
        ml.log_dataset(TRAINING, version="v1")
        ml.log_dataset(EXTERNAL, version="2024-06")
        ml.log_dataset(LATE, version="v9")
        ml.log_metrics({"accuracy": 0.91})  # before the model: order does not matter
        ml.log_model(MODEL, version="m1", framework="scikit-learn", hyperparameters={"C": 1.0})
        ml.log_metrics({"f1": 0.88})

    @task
    def train_two() -> None:
        ml.log_dataset(TRAINING, version="v1")
        ml.log_model(MODEL_A, version="a1")
        ml.log_model(MODEL_B, version="b1")
        ml.log_metrics({"accuracy": 0.5})

    @task(outlets=[Asset(LATE)])
    def refresh() -> None:
        return None

    prepare() >> train() >> train_two() >> refresh()


capture_ml_casual_dag = capture_ml_casual()

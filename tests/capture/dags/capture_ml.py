"""Test DAG (airflow): tasks that use the ML SDK, and one that calls it with a bad argument."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from airflow_lineage_provider import ml

FEATURES = "file:///srv/ml/features.csv"
MODEL = "file:///srv/ml/model.pkl"


@dag(schedule=None, start_date=pendulum.datetime(2024, 1, 1), catchup=False, params={"C": 0.5})
def capture_ml() -> None:
    @task
    def train() -> list[str]:
        seeded = ml.set_seed(7)
        features = ml.log_dataset(FEATURES, name="features", version="f1", query="SELECT * FROM features")
        model = ml.log_model(
            MODEL,
            name="risk",
            version="3",
            framework="scikit-learn",
            hyperparameters={"C": 0.5, "layers": [8, 4]},
            labels={"team": "risk"},
        )
        ml.log_metrics({"accuracy": 0.9}, model=model, dataset=features)
        ml.log_metrics({"auc": 0.95}, model=model, dataset=features)
        return seeded

    @task
    def deploy() -> str:
        return ml.log_deployment(
            MODEL, version="3", target="risk-api", environment="staging", traffic=0.25
        ).name

    @task
    def plain() -> int:
        return 1

    @task
    def skipped() -> None:
        from airflow.sdk.exceptions import AirflowSkipException

        ml.log_model("file:///srv/ml/never.pkl")
        raise AirflowSkipException("nothing to do")

    @task(trigger_rule="all_done")
    def bad_seed() -> None:
        ml.set_seed(-1)

    train() >> deploy() >> plain() >> skipped() >> bad_seed()


capture_ml_dag = capture_ml()

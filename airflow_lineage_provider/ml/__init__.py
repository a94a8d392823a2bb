"""In-task ML SDK: log datasets, models, metrics and seeds on the running task's own lineage run.

    from airflow_lineage_provider import ml

    @task
    def train():
        ml.set_seed(42)
        features = ml.log_dataset("file:///data/features.csv", version="2026-01-01")
        model = ml.log_model("s3://models/churn", name="churn", version="7", framework="sklearn",
                             hyperparameters={"C": 1.0})
        ml.log_metrics({"accuracy": 0.95}, model=model, dataset=features)

    @task
    def deploy():
        ml.log_deployment("s3://models/churn", version="7", target="churn-api", environment="prod",
                          traffic=0.05)

Everything logged goes into the COMPLETE (or FAIL) event of the same task attempt that automatic
capture reports: one run, not a second one. Models are datasets typed ``MODEL`` with an
``airflowLineage_model`` facet, metrics datasets typed ``METRICS`` with ``airflowLineage_metrics``,
deployments datasets typed ``DEPLOYMENT`` with ``airflowLineage_deployment`` (downstream of the model
version the deploying task read). A served model records its predictions with
:mod:`airflow_lineage_provider.serving` (stdlib only, for applications outside Airflow).
Outside a running task every call is a no-op (one debug log line), after the same argument checks.
Invalid arguments raise :class:`MLArgumentError` (a ``ValueError``) in the caller: they are the
user's own code. Nothing here needs Airflow's metadata DB, NumPy or PyTorch.
"""

from __future__ import annotations

from airflow_lineage_provider.ml.sdk import (
    Logged,
    MLArgumentError,
    log_dataset,
    log_deployment,
    log_metrics,
    log_model,
    set_seed,
)

__all__ = [
    "Logged",
    "MLArgumentError",
    "log_dataset",
    "log_deployment",
    "log_metrics",
    "log_model",
    "set_seed",
]

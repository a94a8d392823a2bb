"""Our ML facets, as JSON dicts: reproducibility (run), model and metrics (dataset), and how an input
was read.

Their JSON schemas are in ``schemas/AirflowLineageMLFacets.json`` (one ``$defs`` entry each).
"""

from __future__ import annotations

from typing import Any

from airflow_lineage_provider.capture.facets import ours

SCHEMA_FILE_NAME = "AirflowLineageMLFacets.json"
REPRODUCIBILITY = "airflowLineage_reproducibility"
MODEL = "airflowLineage_model"
METRICS = "airflowLineage_metrics"
INPUT = "airflowLineage_input"
DEPLOYMENT = "airflowLineage_deployment"
PREDICTIONS = "airflowLineage_predictions"  # written by ``airflow_lineage_provider.serving``


def reproducibility(
    code: dict[str, Any],
    environment: dict[str, Any],
    hardware: dict[str, Any],
    params: dict[str, Any],
    seeds: list[dict[str, Any]],
) -> dict[str, Any]:
    """``airflowLineage_reproducibility``: code, environment, hardware, params and seeds of a run."""
    return ours(
        "AirflowLineageReproducibilityRunFacet",
        SCHEMA_FILE_NAME,
        code=code,
        environment=environment,
        hardware=hardware,
        params=params,
        seeds=seeds,
    )


def model(
    name: str | None,
    version: str | None,
    framework: str | None,
    hyperparameters: dict[str, Any],
    labels: dict[str, str],
) -> dict[str, Any]:
    """``airflowLineage_model``: a trained model (name, version, framework, hyperparameters, labels)."""
    return ours(
        "AirflowLineageModelDatasetFacet",
        SCHEMA_FILE_NAME,
        name=name,
        version=version,
        framework=framework,
        hyperparameters=hyperparameters,
        labels=labels,
    )


def metrics(
    values: dict[str, float], model: dict[str, Any] | None = None, dataset: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``airflowLineage_metrics``: metric values, of which model version, on which dataset."""
    return ours(
        "AirflowLineageMetricsDatasetFacet", SCHEMA_FILE_NAME, values=values, model=model, dataset=dataset
    )


def read_input(display_name: str | None, query: str | None) -> dict[str, Any]:
    """``airflowLineage_input``: how a task read an input it logged (display name, query)."""
    return ours("AirflowLineageInputDatasetFacet", SCHEMA_FILE_NAME, displayName=display_name, query=query)


def deployment(
    model: dict[str, Any], target: str, environment: str, traffic: float, by: str | None, at: str
) -> dict[str, Any]:
    """``airflowLineage_deployment``: a model version deployed to ``target`` in ``environment``."""
    return ours(
        "AirflowLineageDeploymentDatasetFacet",
        SCHEMA_FILE_NAME,
        model=model,
        target=target,
        environment=environment,
        traffic=traffic,
        deployedBy=by,
        deployedAt=at,
    )


def predictions(
    model: dict[str, Any], target: str, environment: str, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """``airflowLineage_predictions``: a batch of predictions of a served model version (input hashes)."""
    return ours(
        "AirflowLineagePredictionsDatasetFacet",
        SCHEMA_FILE_NAME,
        model=model,
        deployment={"target": target, "environment": environment},
        count=len(records),
        records=records,
    )

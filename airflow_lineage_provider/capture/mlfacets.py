"""Our ML facets: reproducibility (run), model and metrics (dataset), and how an input was read.

Their JSON schemas are in ``schemas/AirflowLineageMLFacets.json`` (one ``$defs`` entry each).
"""

from __future__ import annotations

from typing import Any

import attr
from openlineage.client.facet_v2 import DatasetFacet, InputDatasetFacet, RunFacet

from airflow_lineage_provider.capture.facets import SCHEMA_BASE

SCHEMA_FILE = SCHEMA_BASE + "AirflowLineageMLFacets.json#/$defs/"
REPRODUCIBILITY = "airflowLineage_reproducibility"
MODEL = "airflowLineage_model"
METRICS = "airflowLineage_metrics"
INPUT = "airflowLineage_input"


@attr.define
class AirflowLineageReproducibilityRunFacet(RunFacet):
    """``airflowLineage_reproducibility``: code, environment, hardware, params and seeds of a run."""

    code: dict[str, Any] = attr.field(factory=dict)
    environment: dict[str, Any] = attr.field(factory=dict)
    hardware: dict[str, Any] = attr.field(factory=dict)
    params: dict[str, Any] = attr.field(factory=dict)
    seeds: list[dict[str, Any]] = attr.field(factory=list)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_FILE + "AirflowLineageReproducibilityRunFacet"


@attr.define
class AirflowLineageModelDatasetFacet(DatasetFacet):
    """``airflowLineage_model``: a trained model (name, version, framework, hyperparameters, labels)."""

    name: str | None = attr.field(default=None)
    version: str | None = attr.field(default=None)
    framework: str | None = attr.field(default=None)
    hyperparameters: dict[str, Any] = attr.field(factory=dict)
    labels: dict[str, str] = attr.field(factory=dict)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_FILE + "AirflowLineageModelDatasetFacet"


@attr.define
class AirflowLineageMetricsDatasetFacet(DatasetFacet):
    """``airflowLineage_metrics``: metric values, of which model version, on which dataset."""

    values: dict[str, float] = attr.field(factory=dict)
    model: dict[str, Any] | None = attr.field(default=None)
    dataset: dict[str, Any] | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_FILE + "AirflowLineageMetricsDatasetFacet"


@attr.define
class AirflowLineageInputDatasetFacet(InputDatasetFacet):
    """``airflowLineage_input``: how a task read an input it logged (display name, query)."""

    displayName: str | None = attr.field(default=None)  # noqa: N815 - OpenLineage field names
    query: str | None = attr.field(default=None)

    @staticmethod
    def _get_schema() -> str:
        return SCHEMA_FILE + "AirflowLineageInputDatasetFacet"

"""Provider metadata read by Airflow's ProvidersManager (a bad dict breaks the whole Airflow CLI)."""

from __future__ import annotations

from typing import Any

VERSION = "0.1.0"


def get_provider_info() -> dict[str, Any]:
    """Return the provider info dict; validated against Airflow's schema by a test."""
    return {
        "package-name": "airflow-lineage-provider",
        "name": "Lineage Provider",
        "description": "Captures data and ML lineage of every task run as OpenLineage events, stores "
        "it in its own metadata store and answers provenance and impact questions.",
        "versions": [VERSION],
        "config": {
            "lineage_provider": {
                "description": "Lineage capture and the lineage store of airflow-lineage-provider.",
                "options": {
                    "disabled": {
                        "description": "Turn lineage capture off everywhere (the listener and the hook "
                        "lineage reader are not registered).",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "True",
                        "default": "False",
                    },
                    "store_url": {
                        "description": "SQLAlchemy URL of the lineage store (its own database, never "
                        "Airflow's metadata DB). Empty means a SQLite file lineage.db under AIRFLOW_HOME. "
                        "Use postgresql+psycopg2://user:pass@host:5432/lineage in production.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "postgresql+psycopg2://airflow:airflow@postgres:5432/lineage",
                        "default": "",
                        "sensitive": True,
                    },
                    "namespace": {
                        "description": "OpenLineage namespace of the jobs this Airflow deployment runs.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "prod-airflow",
                        "default": "airflow",
                    },
                    "emit_timeout": {
                        "description": "Capture time budget in seconds: extraction and delivery of one "
                        "event give up after this long, log one warning and let the task go on.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "2.0",
                        "default": "5.0",
                    },
                },
            }
        },
    }

"""Provider metadata read by Airflow's ProvidersManager (a bad dict breaks the whole Airflow CLI)."""

from __future__ import annotations

from typing import Any

from airflow_lineage_provider import __version__


def get_provider_info() -> dict[str, Any]:
    """Return the provider info dict; validated against Airflow's schema by a test."""
    return {
        "package-name": "airflow-lineage-provider",
        "name": "Lineage Provider",
        "description": "Captures data and ML lineage of every task run as OpenLineage events, stores "
        "it in its own metadata store and answers provenance and impact questions.",
        "versions": [__version__],
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
                    "emitter": {
                        "description": "How task processes deliver events: direct (write the store "
                        "from the task) or http (POST to the API server's ingest endpoint, for workers "
                        "with no route to the store). Undelivered events wait in the outbox either way.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "http",
                        "default": "direct",
                    },
                    "http_url": {
                        "description": "Base URL of the Airflow API server for the http emitter; events "
                        "go to <http_url>/lineage/api/v1/lineage/batch.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "http://airflow-api-server:8080",
                        "default": "",
                    },
                    "http_token": {
                        "description": "Bearer token the http emitter sends (an Airflow API token of a "
                        "user allowed to edit every DAG).",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "eyJhbGciOi...",
                        "default": "",
                        "sensitive": True,
                    },
                    "outbox_dir": {
                        "description": "Directory of the durable outbox: events that could not be "
                        "delivered wait there (one file each) until replayed. Empty means lineage_outbox "
                        "under AIRFLOW_HOME.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "/var/lib/airflow/lineage_outbox",
                        "default": "",
                    },
                    "max_event_bytes": {
                        "description": "Largest event capture delivers, as compact JSON; a larger one "
                        "goes to the dead-letter file with its size, instead of the store.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "262144",
                        "default": "1048576",
                    },
                    "outbox_drain_interval": {
                        "description": "Seconds between drains of the outbox by the API server "
                        "(0 turns the periodic drain off; capture and airflow-lineage replay still drain).",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "60",
                        "default": "30",
                    },
                    "retention_days": {
                        "description": "Default age for airflow-lineage prune: raw events and runs older "
                        "than this many days are removed, except what the graph needs. 0 keeps everything.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "90",
                        "default": "0",
                    },
                },
            }
        },
    }

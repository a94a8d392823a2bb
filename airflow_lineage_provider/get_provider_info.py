"""Provider metadata read by Airflow's ProvidersManager (a bad dict breaks the whole Airflow CLI)."""

from __future__ import annotations

from typing import Any

from airflow_lineage_provider import __version__
from airflow_lineage_provider.conf import DEFAULT_FINGERPRINT_MAX_BYTES, DEFAULT_MAX_EVENT_BYTES


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
                        "description": "Capture time budget in seconds: extracting and keeping one event "
                        "give up after this long, log one warning and let the task go on.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "2.0",
                        "default": "5.0",
                    },
                    "emitter": {
                        "description": "Where the deliverer takes the events tasks append to the outbox: "
                        "direct (into the store) or http (POST to the API server's ingest endpoint, for "
                        "workers with no route to the store). A dotted class path is an emitter of yours, "
                        "called in the task process itself.",
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
                        "description": "Directory of the durable outbox: task processes append their "
                        "events there (one file each) and a deliverer stores them; events that cannot be "
                        "delivered yet wait there. Empty means lineage_outbox under AIRFLOW_HOME.",
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
                        "default": str(DEFAULT_MAX_EVENT_BYTES),
                    },
                    "fingerprint_max_bytes": {
                        "description": "Files a task reads or writes up to this size get a content "
                        "fingerprint of all their bytes; a larger file is fingerprinted by its size, "
                        "modification time and sampled blocks, and marked sampled.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "104857600",
                        "default": str(DEFAULT_FINGERPRINT_MAX_BYTES),
                    },
                    "fingerprint_timeout": {
                        "description": "Seconds one task event may spend fingerprinting its files and "
                        "tables (inside emit_timeout); a dataset not fingerprinted in time has no "
                        "fingerprint, the task goes on. 0 takes no fingerprints.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "0.5",
                        "default": "1.0",
                    },
                    "outbox_drain_interval": {
                        "description": "Seconds between full retries of the outbox by a deliverer while "
                        "delivery fails (the store or the API server is down), and between drains when "
                        "nothing seems to change. 0 turns delivery by the API server off; the host "
                        "deliverer, readers and airflow-lineage replay still deliver.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "60",
                        "default": "30",
                    },
                    "outbox_poll_interval": {
                        "description": "Seconds between looks at the outbox by a deliverer (the API "
                        "server, or the deliverer a task process starts on its host): how soon a task's "
                        "events reach the store after they are written.",
                        "version_added": "0.2.0",
                        "type": "float",
                        "example": "0.5",
                        "default": "0.2",
                    },
                    "deliverer_idle_timeout": {
                        "description": "Seconds a host deliverer (started by the first task process on "
                        "a machine where no API server delivers) waits with nothing to deliver before "
                        "it exits; the next task starts a new one.",
                        "version_added": "0.2.0",
                        "type": "float",
                        "example": "3600",
                        "default": "600",
                    },
                    "durability": {
                        "description": "process (default): an event in the outbox survives the death of "
                        "any process and restarts of any component; a host power failure may lose what "
                        "the OS had not yet written back. host: also fsync each event file and its "
                        "directory before the hook returns (a few ms per event on a disk).",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "host",
                        "default": "process",
                    },
                    "adjacency_index": {
                        "description": "Keep the edges in a compact in-memory index in the API server, "
                        "refreshed before each read from what changed in the store, so lineage walks read "
                        "no edge rows (the store stays the truth; several API servers each refresh theirs).",
                        "version_added": "0.2.0",
                        "type": "boolean",
                        "example": "False",
                        "default": "True",
                    },
                    "adjacency_index_max_edges": {
                        "description": "The largest store (in edges) the in-memory index is kept for: about "
                        "40 bytes an edge (10,000,000 edges: about 400 MB). Larger stores are walked in SQL.",
                        "version_added": "0.2.0",
                        "type": "integer",
                        "example": "2000000",
                        "default": "10000000",
                    },
                    "reconcile_interval": {
                        "description": "Seconds between passes of the API server's reconciler, which "
                        "records the terminal event (and a missing START) of task attempts that ended in "
                        "Airflow while their run here is still open, e.g. after a task process was killed "
                        "(0 turns it off).",
                        "version_added": "0.2.0",
                        "type": "float",
                        "example": "300",
                        "default": "60",
                    },
                    "reconcile_grace": {
                        "description": "Seconds after a task attempt ended before the reconciler may record "
                        "its missing events, so that the task's own events arrive first.",
                        "version_added": "0.2.0",
                        "type": "float",
                        "example": "600",
                        "default": "120",
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

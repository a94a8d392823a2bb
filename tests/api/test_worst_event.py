"""No event ingest accepts can make a read fail: the worst one is stored, then every read route
(from the app's OpenAPI) is called on it, as a reader of every DAG and as a reader of one DAG.

The worst event: objects and arrays nested exactly as deep as ingest allows in every place that holds
free-form JSON (run, job and dataset facets, column-lineage transformations), a facet as large as the
event size limit leaves room for, and names and values with every odd character ingest allows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_lineage_provider.core.events import MAX_EVENT_BYTES
from airflow_lineage_provider.core.nesting import MAX_NESTING
from tests.api.routes import calls, read_operations
from tests.core.test_nesting import nested
from tests.store.events import at, new_run

ODD = "a/b:c%2F?#&=+ \\\"'<b>ß☃𝄞\u202eevil\u200b\t\n\x01\x1f😀"
# A name with a line feed cannot be addressed in a URL path inside Airflow (its /lineage mount's
# pattern stops at a line feed: 404); such names are still stored and read by nodeId.
IN_PATH = ODD.replace("\n", "")
NAMESPACE = f"odd://h☃st:5432/{IN_PATH}"
JOB = f"dag_a.w{IN_PATH}"
MODEL = f"model {IN_PATH}"
SOURCE = f"source {ODD}"
FIELD = f"field {ODD}"


def deep(levels_above: int) -> Any:
    """A value that brings the event to exactly MAX_NESTING levels, placed ``levels_above`` deep."""
    return nested(MAX_NESTING - levels_above)


def worst_event(run_id: str) -> dict[str, Any]:
    facet = {"_producer": ODD, "_schemaURL": "https://example.com/facet.json"}
    transformations = [{"type": "DIRECT", "subtype": ODD, "deep": deep(11)}]
    column_lineage = {
        **facet,
        "fields": {
            FIELD: {
                "inputFields": [
                    {
                        "namespace": NAMESPACE,
                        "name": SOURCE,
                        "field": FIELD,
                        "transformations": transformations,
                    }
                ]
            }
        },
    }
    output_facets = {
        "datasetType": {**facet, "datasetType": "MODEL"},
        "schema": {**facet, "fields": [{"name": FIELD, "type": ODD, "description": ODD}]},
        "documentation": {**facet, "description": ODD},
        "columnLineage": column_lineage,
        "deep": {**facet, "value": deep(5)},
    }
    event = {
        "eventType": "COMPLETE",
        "eventTime": at(1),
        "producer": ODD,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id, "facets": {"deep": {**facet, "value": deep(4)}, ODD: {**facet}}},
        "job": {"namespace": "airflow", "name": JOB, "facets": {"deep": {**facet, "value": deep(4)}}},
        "inputs": [{"namespace": NAMESPACE, "name": SOURCE, "facets": {"deep": {**facet, "v": deep(5)}}}],
        "outputs": [
            {"namespace": NAMESPACE, "name": MODEL, "facets": output_facets},
            # the run's id is then a trace id (/ml/trace), as a served model's predictions make one
            {
                "namespace": NAMESPACE,
                "name": ODD,
                "facets": {"datasetType": {**facet, "datasetType": "PREDICTIONS"}},
            },
        ],
    }
    room = MAX_EVENT_BYTES - len(json.dumps(event)) - 1024
    event["run"]["facets"]["large"] = {**facet, "blob": "x" * room}
    return event


@pytest.fixture
def worst(api):
    run_id = new_run()
    event = worst_event(run_id)
    response = api.post("/api/v1/lineage", json=event)
    assert response.status_code == 201, response.text[:500]
    too_deep = worst_event(new_run())
    too_deep["run"]["facets"]["deep"]["value"] = deep(3)
    refused = api.post("/api/v1/lineage", json=too_deep)
    assert refused.status_code == 422 and str(MAX_NESTING) in refused.json()["detail"]
    return api, run_id


def test_every_read_route_serves_the_worst_event_ingest_accepts(worst):
    api, run_id = worst
    spec = api.get("/openapi.json", None).json()
    model_id = f"dataset:{NAMESPACE}:{MODEL}"
    values = {
        "nodeId": [
            model_id,
            f"job:airflow:{JOB}",
            f"run:{run_id}",
            f"datasetField:{NAMESPACE}:{MODEL}:{FIELD}",
        ],
        "namespace": [NAMESPACE, "airflow"],
        "dataset": [MODEL, SOURCE],
        "job": [JOB],
        "run_id": [run_id],
        "trace_id": [run_id],
        "dag_id": ["dag_a"],
        "runA": [run_id],
        "runB": [run_id],
        "q": ["☃"],
        "withDownstream": ["true"],
        "asOf": [run_id],
        "format": ["csv", "markdown", "html"],
    }
    ok: dict[str, int] = {}
    for call in calls(spec, values):
        for user in ("admin", "viewer_a"):
            response = api.get(call.path, user, params=call.params)
            assert response.status_code < 500, (user, call, response.text[:300])
            if user == "admin" and response.status_code == 200:
                ok[call.operation] = ok.get(call.operation, 0) + 1
    operations = {f"GET {path}" for path, _ in read_operations(spec)}
    assert operations == set(ok), f"never answered 200: {operations - set(ok)}"

"""The REST API in a real ``airflow api-server``: mounted by the plugin at /lineage, guarded by Airflow's
auth (a token from POST /auth/token), fed by openlineage-python's HTTP transport as any producer would:
events built with its classes, the spec's full example event and every facet example of the spec."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import SPEC_DIR
from tests.integration.apiserver import running_api_server
from tests.store.events import ds, new_run, run_event

pytestmark = pytest.mark.integration

PG = "postgres://db:5432"


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A running api-server; yields its URL and a token per user."""
    with running_api_server(tmp_path) as server:
        yield server.base_url, server.tokens


def _spec_like_events() -> list[Any]:
    """A run, a dataset and a job event, built with openlineage-python's classes."""
    from openlineage.client.event_v2 import (
        DatasetEvent,
        InputDataset,
        Job,
        JobEvent,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
        StaticDataset,
    )
    from openlineage.client.facet_v2 import schema_dataset, sql_job

    now = datetime.now(timezone.utc).isoformat()
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name="order_id", type="INTEGER")]
    )
    job = Job(namespace="food_delivery", name="dbt", facets={"sql": sql_job.SQLJobFacet(query="SELECT 1")})
    run = Run(runId=str(uuid.uuid4()))
    orders = InputDataset(namespace=PG, name="public.orders", facets={"schema": schema})
    weekly = OutputDataset(namespace=PG, name="public.delivery_7_days", facets={"schema": schema})
    return [
        RunEvent(eventType=RunState.START, eventTime=now, run=run, job=job, inputs=[orders]),
        RunEvent(
            eventType=RunState.COMPLETE, eventTime=now, run=run, job=job, inputs=[orders], outputs=[weekly]
        ),
        DatasetEvent(eventTime=now, dataset=StaticDataset(namespace=PG, name="public.customers")),
        JobEvent(
            eventTime=now,
            job=Job(namespace="food_delivery", name="report"),
            inputs=[InputDataset(namespace=PG, name="public.delivery_7_days")],
        ),
    ]


def _spec_examples() -> list[dict[str, Any]]:
    """The spec's full example event and each facet example of the spec, wrapped in a run event."""
    examples = [json.loads((SPEC_DIR / "tests" / "example_full_event.json").read_text())]
    for path in sorted((SPEC_DIR / "tests").glob("*/*.json")):
        event = run_event("COMPLETE", "spec.vectors", new_run(), inputs=[ds("in")], outputs=[ds("out")])
        kind, facets = path.parent.name, json.loads(path.read_text())
        for suffix, target in (
            ("InputDatasetFacet", event["inputs"][0].setdefault("inputFacets", {})),
            ("OutputDatasetFacet", event["outputs"][0].setdefault("outputFacets", {})),
            ("DatasetFacet", event["outputs"][0]["facets"]),
            ("RunFacet", event["run"]["facets"]),
            ("JobFacet", event["job"]["facets"]),
        ):
            if kind.endswith(suffix):
                target.update(facets)
                break
        examples.append(event)
    return examples


def test_the_api_server_serves_the_lineage_api_behind_airflow_auth(api_server):
    base_url, tokens = api_server
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

    assert httpx.get(f"{base_url}/lineage/api/v1/namespaces").status_code == 401
    assert httpx.get(f"{base_url}/lineage/openapi.json").status_code == 200

    # The transport joins url and endpoint with urljoin: the url needs its trailing slash.
    config = HttpConfig(
        url=f"{base_url}/lineage/",
        endpoint="api/v1/lineage",
        auth=ApiKeyTokenProvider({"api_key": tokens["admin"]}),
    )
    client = OpenLineageClient(transport=HttpTransport(config))
    spec_examples = _spec_examples()
    try:
        for event in _spec_like_events():
            client.emit(event)
        for example in spec_examples:  # dicts: straight to the transport (the client takes only objects)
            client.transport.emit(example)  # type: ignore[union-attr]
    finally:
        client.close()

    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    graph = httpx.get(
        f"{base_url}/lineage/api/v1/lineage",
        params={"nodeId": f"dataset:{PG}:public.delivery_7_days", "depth": 2},
        headers=admin,
    )
    assert graph.status_code == 200, graph.text
    assert {n["id"] for n in graph.json()["graph"]} == {
        f"dataset:{PG}:public.delivery_7_days",
        "job:food_delivery:dbt",
        f"dataset:{PG}:public.orders",
        "job:food_delivery:report",
    }
    namespace = quote(PG, safe="")  # one path segment: postgres%3A%2F%2Fdb%3A5432
    customers = httpx.get(f"{base_url}/lineage/api/v1/namespaces/{namespace}/datasets", headers=admin)
    assert "public.customers" in {d["name"] for d in customers.json()["datasets"]}

    events = httpx.get(f"{base_url}/lineage/api/v1/events/lineage", params={"limit": 1}, headers=admin)
    assert events.json()["totalCount"] == 4 + len(spec_examples)
    dbt = httpx.get(f"{base_url}/lineage/api/v1/namespaces/food_delivery/jobs/dbt", headers=admin).json()
    assert dbt["facets"]["sql"]["query"] == "SELECT 1"

    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    refused = httpx.post(f"{base_url}/lineage/api/v1/lineage", json={}, headers=viewer)
    assert refused.status_code == 403
    assert httpx.get(f"{base_url}/lineage/api/v1/namespaces", headers=viewer).status_code == 200

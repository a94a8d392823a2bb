"""Property-based run of schemathesis against the app's own OpenAPI: no input gives a 5xx.

Requests go through Airflow's app (auth included) as admin, against a SQLite and a PostgreSQL store
holding the small world of :mod:`tests.api.world`; at most 25 examples per operation and generation
mode, so each run stays well under a minute. Ingest then read: events schemathesis generates from the
ingest operation's schema are posted, and every read route is then called on the nodes they created.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.api import world
from tests.api.conftest import ROUTES, Api, lineage_app
from tests.api.routes import calls

_NAMED = {
    "type": "object",
    "required": ["namespace", "name"],
    "properties": {
        "namespace": {"type": "string", "minLength": 1, "pattern": "^[^\\x00]+$"},
        "name": {"type": "string", "minLength": 1, "pattern": "^[^\\x00]+$"},
    },
}
# A RunEvent as ingest accepts it (the ingest operation's own schema also allows what it refuses).
RUN_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["eventType", "eventTime", "producer", "schemaURL", "run", "job"],
    "properties": {
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"enum": ["2026-01-01T00:00:00+00:00", "2026-01-02T10:00:00.123456Z"]},
        "producer": {"enum": ["https://example.com/p"]},
        "schemaURL": {"enum": ["https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"]},
        "run": {
            "type": "object",
            "required": ["runId"],
            "properties": {"runId": {"type": "string", "format": "uuid"}},
        },
        "job": _NAMED,
        "inputs": {"type": "array", "items": _NAMED, "maxItems": 3},
        "outputs": {"type": "array", "items": _NAMED, "maxItems": 3},
    },
}


def _store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("fuzz") / "lineage.db"
        return f"sqlite:///{path}"
    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_url")
    schema = f"fuzz_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzzed_api(
    request: pytest.FixtureRequest, airflow_client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    from airflow_lineage_provider import LineageStore
    from airflow_lineage_provider.api.app import StoreHolder

    store = LineageStore.from_url(_store_url(request, tmp_path_factory))
    store.record_many(world.events())
    app = lineage_app(airflow_client)
    previous, app.state.stores = app.state.stores, StoreHolder(store)
    try:
        yield Api(airflow_client)
    finally:
        app.state.stores = previous
        store.close()


@pytest.fixture(scope="module")
def lineage_schema(fuzzed_api: Api) -> Any:
    return schemathesis.openapi.from_asgi("/lineage/openapi.json", fuzzed_api.client.app)


# Known nodes and names for a third run of each operation, so generated requests also reach stored data.
KNOWN: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/lineage"): {"query": {"nodeId": world.ODD_ID}},
    ("GET", "/api/v1/column-lineage"): {"query": {"nodeId": world.ODD_ID}},
    ("GET", "/api/v1/impact"): {"query": {"nodeId": world.SRC_ID}},
    ("GET", "/api/v1/namespaces/{namespace}"): {"path_parameters": {"namespace": world.PG}},
    ("GET", "/api/v1/namespaces/{namespace}/datasets"): {"path_parameters": {"namespace": world.PG}},
    ("GET", "/api/v1/namespaces/{namespace}/datasets/{dataset}/versions"): {
        "path_parameters": {"namespace": world.PG, "dataset": world.ODD}
    },
    ("GET", "/api/v1/namespaces/{namespace}/jobs/{job}/runs"): {
        "path_parameters": {"namespace": "airflow", "job": "dag_a.extract"}
    },
}


# schemathesis.pytest.from_fixture fails on pytest 9 (it reads the removed Function._nodeid), so each
# operation is driven here with its hypothesis strategy.
CASES = [
    (method, path, mode)
    for method, path in sorted(ROUTES)
    for mode in [*GenerationMode, "known"]
    if mode != "known" or (method, path) in KNOWN
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=lambda v: str(v))
def test_no_generated_request_gets_a_server_error(
    lineage_schema: Any, fuzzed_api: Api, method: str, path: str, mode: GenerationMode | str
) -> None:
    operation = lineage_schema[path][method]
    strategy = (
        operation.as_strategy(**KNOWN[(method, path)])
        if mode == "known"
        else operation.as_strategy(generation_mode=mode)
    )
    headers = {"Authorization": f"Bearer {fuzzed_api.token('admin')}"}

    @given(case=strategy)
    @settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def no_server_error(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    no_server_error()


def _names(event: dict[str, Any]) -> dict[str, set[str]]:
    """Parameter values that reach what one stored event created."""
    found: dict[str, set[str]] = {"nodeId": set(), "namespace": set(), "dataset": set(), "job": set()}
    job, run = event.get("job") or {}, event.get("run") or {}
    if job:
        found["nodeId"].add(f"job:{job['namespace']}:{job['name']}")
        found["namespace"].add(job["namespace"])
        found["job"].add(job["name"])
    if run:
        found["run_id"] = {str(uuid.UUID(run["runId"]))}
        found["nodeId"].add(f"run:{uuid.UUID(run['runId'])}")
    for dataset in [*(event.get("inputs") or []), *(event.get("outputs") or []), event.get("dataset")]:
        if dataset:
            found["nodeId"].add(f"dataset:{dataset['namespace']}:{dataset['name']}")
            found["namespace"].add(dataset["namespace"])
            found["dataset"].add(dataset["name"])
    return found


def _run_events() -> Any:
    """The strategy of a one-operation document whose body is :data:`RUN_EVENT`."""
    body = {"required": True, "content": {"application/json": {"schema": RUN_EVENT}}}
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "run events", "version": "1"},
        "paths": {"/e": {"post": {"requestBody": body, "responses": {"201": {"description": "stored"}}}}},
    }
    return schemathesis.openapi.from_dict(spec)["/e"]["POST"].as_strategy(
        generation_mode=GenerationMode.POSITIVE
    )


def test_events_generated_from_the_ingest_schema_once_stored_never_break_a_read(
    lineage_schema: Any, fuzzed_api: Api
) -> None:
    headers = {"Content-Type": "application/json"}
    stored: list[dict[str, Any]] = []
    loose = lineage_schema["/api/v1/lineage"]["POST"].as_strategy(generation_mode=GenerationMode.POSITIVE)

    @given(case=loose, event=_run_events())
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def ingest(case: Any, event: Any) -> None:
        for body in (case.body, event.body):  # the ingest operation's own schema, and a run event's
            response = fuzzed_api.post("/api/v1/lineage", json=body, headers=headers)
            assert response.status_code < 500, response.text
            if response.status_code == 201:
                stored.append(body)

    ingest()
    assert stored, "schemathesis generated no event that ingest accepts"
    spec = fuzzed_api.get("/openapi.json", None).json()
    for event in stored:
        values: dict[str, list[Any]] = {name: sorted(v)[:2] for name, v in _names(event).items() if v}
        values.update(dag_id=["dag_a"], q=["a"], runA=values.get("run_id", [str(uuid.uuid4())]))
        values.update(
            runB=values["runA"], run_id=values["runA"], trace_id=values["runA"], withDownstream=["true"]
        )
        values.setdefault("nodeId", [world.ODD_ID])
        values.setdefault("namespace", ["airflow"])
        values.setdefault("dataset", ["none"])
        values.setdefault("job", ["none"])
        for call in calls(spec, values):
            response = fuzzed_api.get(call.path, params=call.params)
            assert response.status_code < 500, (event, call, response.text[:300])

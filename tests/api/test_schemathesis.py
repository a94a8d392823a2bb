"""Property-based run of schemathesis against the app's own OpenAPI: no input gives a 5xx.

Requests go through Airflow's app (auth included) as admin, against a SQLite and a PostgreSQL store
holding the small world of :mod:`tests.api.world`; at most 25 examples per operation and generation
mode, so each run stays well under a minute.
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

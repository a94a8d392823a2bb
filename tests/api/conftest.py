"""The REST API inside Airflow's own FastAPI app (``airflow.api_fastapi.app.create_app``).

The plugin is loaded through its entry point as in the API server, the auth manager issues real JWTs
and checks them against the real metadata DB. Users (``[core] simple_auth_manager_users``): admin,
editor (role user), viewer, and viewer_a / viewer_b who may read only dag_a / dag_b
(:mod:`tests.api.authmanager`). Each test gets the lineage store of the ``store`` fixture.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROLES = {"admin": "admin", "editor": "user", "viewer": "viewer", "viewer_a": "viewer", "viewer_b": "viewer"}
PASSWORDS = {user: f"{user}-password" for user in ROLES}
DAG_IDS = ("dag_a", "dag_b")
ROUTES = {  # every operation of the app: Marquez's routes and our extensions
    ("POST", "/api/v1/lineage"),
    ("POST", "/api/v1/lineage/batch"),
    ("GET", "/api/v1/lineage"),
    ("GET", "/api/v1/column-lineage"),
    ("GET", "/api/v1/impact"),
    ("GET", "/api/v1/impact/summary"),
    ("GET", "/api/v1/impact/nodes"),
    ("GET", "/api/v1/dags/{dag_id}/lineage"),
    ("GET", "/api/v1/namespaces"),
    ("GET", "/api/v1/namespaces/{namespace}"),
    ("GET", "/api/v1/namespaces/{namespace}/datasets"),
    ("GET", "/api/v1/namespaces/{namespace}/datasets/{dataset}"),
    ("GET", "/api/v1/namespaces/{namespace}/datasets/{dataset}/versions"),
    ("GET", "/api/v1/namespaces/{namespace}/jobs"),
    ("GET", "/api/v1/namespaces/{namespace}/jobs/{job}"),
    ("GET", "/api/v1/namespaces/{namespace}/jobs/{job}/runs"),
    ("GET", "/api/v1/jobs/runs/{run_id}"),
    ("GET", "/api/v1/search"),
    ("GET", "/api/v1/events/lineage"),
    ("GET", "/api/v1/ml/models"),
    ("GET", "/api/v1/ml/provenance"),
    ("GET", "/api/v1/ml/impact"),
    ("GET", "/api/v1/ml/reproducible"),
    ("GET", "/api/v1/ml/diff"),
    ("GET", "/api/v1/ml/runs/{run_id}/record"),
    ("GET", "/api/v1/ml/approvals"),
    ("POST", "/api/v1/ml/approvals"),
    ("GET", "/api/v1/ml/audit"),
    ("GET", "/api/v1/ml/verify"),
    ("GET", "/api/v1/ml/trace/{trace_id}"),
    ("GET", "/api/v1/ml/verify/artifacts"),
}


def _register_dags(dag_ids: tuple[str, ...]) -> None:
    """DagModel rows, which Airflow's get_authorized_dag_ids reads."""
    from airflow.models.dag import DagModel
    from airflow.models.dagbundle import DagBundleModel
    from airflow.utils.session import create_session

    with create_session() as session:
        if session.get(DagBundleModel, "lineage-tests") is None:
            session.add(DagBundleModel(name="lineage-tests"))
            session.flush()
        for dag_id in dag_ids:
            if session.get(DagModel, dag_id) is None:
                session.add(DagModel(dag_id=dag_id, bundle_name="lineage-tests"))


@pytest.fixture(scope="session")
def airflow_client(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A TestClient of Airflow's API app with our plugin mounted at /lineage."""
    passwords = tmp_path_factory.mktemp("auth") / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    patch = pytest.MonkeyPatch()
    patch.setenv("AIRFLOW__CORE__AUTH_MANAGER", "tests.api.authmanager.DagScopedAuthManager")
    patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", ",".join(f"{u}:{r}" for u, r in ROLES.items()))
    patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(passwords))
    patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "lineage-tests-" + "s" * 64)
    # This app lives for the whole session in the test process: its background services (the outbox
    # deliverer, the reconciler) would deliver other tests' outboxes into this app's store. They are
    # tested in real API servers (tests/integration).
    patch.setenv("AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DRAIN_INTERVAL", "0")
    patch.setenv("AIRFLOW__LINEAGE_PROVIDER__RECONCILE_INTERVAL", "0")
    from airflow_lineage_provider import conf

    conf.reload()
    from airflow.api_fastapi.app import create_app, purge_cached_app
    from fastapi.testclient import TestClient

    _register_dags(DAG_IDS)
    try:
        with TestClient(create_app("core")) as client:
            yield client
    finally:
        purge_cached_app()
        patch.undo()


def lineage_app(client: Any) -> Any:
    from starlette.routing import Mount

    return next(r.app for r in client.app.routes if isinstance(r, Mount) and r.path == "/lineage")


class Api:
    """Requests to /lineage as one of the test users (``user=None``: no credentials)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self._tokens:
            from airflow.api_fastapi.app import get_auth_manager
            from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

            manager = get_auth_manager()
            self._tokens[user] = manager.generate_jwt(SimpleAuthManagerUser(username=user, role=ROLES[user]))
        return self._tokens[user]

    def request(self, method: str, path: str, user: str | None = "admin", **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", None) or {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        return self.client.request(method, "/lineage" + path, headers=headers, **kwargs)

    def get(self, path: str, user: str | None = "admin", **kwargs: Any) -> Any:
        return self.request("GET", path, user, **kwargs)

    def post(self, path: str, user: str | None = "admin", **kwargs: Any) -> Any:
        return self.request("POST", path, user, **kwargs)

    def ok(self, path: str, user: str = "admin", **params: Any) -> Any:
        response = self.get(path, user, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(airflow_client: Any, store: Any) -> Iterator[Api]:
    """The API, reading and writing the test's store."""
    from airflow_lineage_provider.api.app import StoreHolder

    app = lineage_app(airflow_client)
    previous = app.state.stores
    app.state.stores = StoreHolder(store)
    try:
        yield Api(airflow_client)
    finally:
        app.state.stores = previous

"""Every route needs an authenticated Airflow user: Bearer token or the UI's ``_token`` cookie."""

from __future__ import annotations

import pytest

from tests.api.conftest import PASSWORDS, ROUTES
from tests.api.world import ODD_ID


def _routes(api) -> list[tuple[str, str]]:
    spec = api.get("/openapi.json", user=None).json()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


def _call(api, method: str, path: str, **kwargs):
    concrete = path.format(
        namespace="airflow",
        dataset="d",
        job="j",
        dag_id="dag_a",
        run_id="0" * 8 + "-0000-0000-0000-" + "0" * 12,
        trace_id="0" * 8 + "-0000-0000-0000-" + "0" * 12,
    )
    params = {"nodeId": ODD_ID, "q": "x"}
    return api.request(method, concrete, params=params, json=[] if "batch" in path else {}, **kwargs)


def test_the_app_documents_every_marquez_route_and_our_extensions(api):
    assert set(_routes(api)) == ROUTES


def test_every_route_without_a_token_is_401(api):
    for method, path in _routes(api):
        assert _call(api, method, path, user=None).status_code == 401, (method, path)


def test_every_route_with_a_forged_token_is_403(api):
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"}
    for method, path in _routes(api):
        assert _call(api, method, path, user=None, headers=forged).status_code == 403, (method, path)


@pytest.mark.parametrize("user", ["admin", "viewer_a"])
def test_a_token_from_airflow_login_works_as_bearer_and_as_the_ui_cookie(api, user):
    login = api.client.post("/auth/token", json={"username": user, "password": PASSWORDS[user]})
    assert login.status_code == 201, login.text
    token = login.json()["access_token"]
    bearer = api.get("/api/v1/namespaces", user=None, headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 200
    api.client.cookies.set("_token", token)
    try:
        assert api.get("/api/v1/namespaces", user=None).status_code == 200
    finally:
        api.client.cookies.clear()

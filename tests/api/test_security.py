"""Cross-site request forgery, ``nosniff`` and the public API documentation.

A state-changing request must be ``application/json`` (gzip allowed); authenticated by the UI's
``_token`` cookie it must also come from the server's own origin or carry ``X-Requested-With``.
Bearer clients are unchanged. (A real cross-site page in Chromium: tests/ui/test_csrf_browser.py.)
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.store.events import new_run, run_event

SINGLE, BATCH = "/api/v1/lineage", "/api/v1/lineage/batch"
HOST = "testserver"  # the Host the TestClient sends


def _event() -> dict[str, Any]:
    return run_event("COMPLETE", "dag_a.csrf", new_run())


def _stored(api: Api) -> int:
    return int(api.ok("/api/v1/events/lineage")["totalCount"])


@pytest.fixture
def cookie(api: Api) -> Iterator[Api]:
    """The API with the editor's ``_token`` cookie set, as the Airflow UI sets it."""
    api.client.cookies.set("_token", api.token("editor"))
    try:
        yield api
    finally:
        api.client.cookies.clear()


def _post(api: Api, path: str, body: bytes, **headers: str) -> Any:
    return api.client.post("/lineage" + path, content=body, headers=headers)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_ingest_refuses_what_a_cross_site_form_can_send_and_stores_nothing(cookie, content_type):
    body = json.dumps(_event()).encode()
    headers = {"Origin": "https://evil.example"}
    if content_type:
        headers["Content-Type"] = content_type
    for path, payload in ((SINGLE, body), (BATCH, b"[" + body + b"]")):
        response = _post(cookie, path, payload, **headers)
        assert response.status_code == 415, response.text
        assert "application/json" in response.json()["detail"]
    form = _post(cookie, "/api/v1/ml/approvals", b"nodeId=x&reason=y", **headers)
    assert form.status_code == 415
    assert _stored(cookie) == 0


def test_a_cookie_authenticated_json_post_from_another_origin_is_403(cookie):
    body = json.dumps(_event()).encode()
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page.html"},
        {"Origin": f"http://{HOST}.evil.example", "Referer": f"http://{HOST}/lineage/ui/"},
        {},  # neither Origin nor Referer: nothing shows where it came from
    ):
        response = _post(cookie, SINGLE, body, **{"Content-Type": "application/json", **headers})
        assert response.status_code == 403, (headers, response.text)
        assert "X-Requested-With" in response.json()["detail"]
    assert _stored(cookie) == 0


def test_a_cookie_authenticated_json_post_from_the_same_origin_or_with_the_custom_header_is_stored(cookie):
    json_type = {"Content-Type": "application/json"}
    for headers in (
        {"Origin": f"http://{HOST}"},
        {"Origin": f"https://{HOST}"},  # behind a TLS-terminating proxy the Host is the same
        {"Referer": f"http://{HOST}/lineage/ui/"},
        {"X-Requested-With": "XMLHttpRequest", "Origin": "https://evil.example"},
    ):
        response = _post(cookie, SINGLE, json.dumps(_event()).encode(), **json_type, **headers)
        assert response.status_code == 201, (headers, response.text)
    assert _stored(cookie) == 4


def test_bearer_clients_need_no_origin_plain_or_gzipped_json(api):
    body = json.dumps(_event()).encode()
    token = {"Authorization": f"Bearer {api.token('editor')}", "Content-Type": "application/json"}
    assert _post(api, SINGLE, body, **token).status_code == 201
    gzipped = gzip.compress(json.dumps([_event()]).encode())
    assert _post(api, BATCH, gzipped, **token, **{"Content-Encoding": "gzip"}).status_code == 201
    charset = {**token, "Content-Type": "application/json; charset=utf-8"}
    assert _post(api, SINGLE, json.dumps(_event()).encode(), **charset).status_code == 201
    plain = {**token, "Content-Type": "text/plain"}
    assert _post(api, SINGLE, json.dumps(_event()).encode(), **plain).status_code == 415
    assert _stored(api) == 3


def test_reads_by_cookie_need_no_origin(cookie):
    assert cookie.client.get("/lineage/api/v1/namespaces").status_code == 200


@pytest.mark.parametrize(
    ("path", "user", "status"),
    [
        ("/api/v1/namespaces", "admin", 200),
        ("/api/v1/lineage?nodeId=dataset:x:y", "admin", 404),
        ("/api/v1/namespaces", None, 401),
        ("/api/v1/impact?nodeId=dataset:x:y&format=csv", "admin", 404),
        ("/openapi.json", None, 200),
    ],
)
def test_every_json_response_says_nosniff(api, path, user, status):
    response = api.get(path, user)
    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_openapi_document_and_swagger_ui_are_public_as_airflows_own_are(api):
    spec = api.get("/openapi.json", None)
    assert spec.status_code == 200 and "/api/v1/lineage" in spec.json()["paths"]
    docs = api.get("/docs", None)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "nodeId" not in docs.text  # the page holds no data, it loads the document


def test_swagger_ui_and_redoc_follow_airflows_enable_swagger_ui(monkeypatch, store):
    from fastapi.testclient import TestClient

    from airflow_lineage_provider.api.app import create_app

    for value, status in (("False", 404), ("True", 200)):
        monkeypatch.setenv("AIRFLOW__API__ENABLE_SWAGGER_UI", value)
        client = TestClient(create_app(store))
        assert client.get("/docs").status_code == status
        assert client.get("/redoc").status_code == status
        assert client.get("/openapi.json").status_code == 200

"""OpenLineage ingest: POST /api/v1/lineage (one event) and /api/v1/lineage/batch (a JSON array)."""

from __future__ import annotations

import gzip
import json

import pytest

from airflow_lineage_provider.api.payload import MAX_BODY_BYTES
from tests.api import world
from tests.store.events import ds, new_run, run_event

SINGLE, BATCH = "/api/v1/lineage", "/api/v1/lineage/batch"
JSON = {"Content-Type": "application/json"}  # what OpenLineage clients send (also when gzipped)


def _stored(api) -> int:
    return api.ok("/api/v1/events/lineage", limit=1000)["totalCount"]


def test_a_valid_event_is_created_and_shows_in_the_lineage_graph(api):
    event = run_event("COMPLETE", "dag_a.load", new_run(), inputs=[ds("raw")], outputs=[ds("clean")])
    response = api.post(SINGLE, json=event)
    assert response.status_code == 201
    assert response.json() == {"stored": 1, "duplicates": 0}
    graph = api.ok("/api/v1/lineage", nodeId="dataset:sqlite:///data/w.db:clean", depth=2)
    assert {n["id"] for n in graph["graph"]} >= {"job:airflow:dag_a.load", "dataset:sqlite:///data/w.db:raw"}


def test_posting_the_same_event_again_is_idempotent(api):
    event = run_event("START", "dag_a.load", new_run(), inputs=[ds("raw")])
    assert api.post(SINGLE, json=event).json() == {"stored": 1, "duplicates": 0}
    again = api.post(SINGLE, json=event)
    assert again.status_code == 201
    assert again.json() == {"stored": 0, "duplicates": 1}
    assert _stored(api) == 1


def test_a_batch_is_stored_in_one_call(api):
    response = api.post(BATCH, json=world.events())
    assert response.status_code == 201
    assert response.json() == {"stored": 5, "duplicates": 0}


def test_one_invalid_event_in_a_batch_names_it_and_stores_nothing(api):
    events = world.events()
    events[3]["run"]["runId"] = "not-a-uuid"
    response = api.post(BATCH, json=events)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "InvalidEventError"
    assert (body["index"], body["field"]) == (3, "run.runId")
    assert _stored(api) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.update(eventTime="yesterday"), "eventTime"),
        (lambda e: e["job"].update(name=7), "job.name"),
        (lambda e: e.pop("producer"), "producer"),
        (lambda e: e["outputs"].append({"namespace": "x"}), "outputs[0].name"),
    ],
    ids=["time-not-a-date", "name-not-a-string", "no-producer", "dataset-without-name"],
)
def test_an_invalid_event_is_422_with_the_wrong_field(api, change, field):
    event = run_event("COMPLETE", "dag_a.load", new_run())
    change(event)
    response = api.post(SINGLE, json=event)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert _stored(api) == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (SINGLE, b'{"eventType": "START",'),
        (SINGLE, b'{"eventTime": NaN}'),
        (SINGLE, b"\xff\xfe not utf-8"),
        (SINGLE, b"[]"),
        (BATCH, b"{}"),
        (SINGLE, b"[" * 100_000),
    ],
    ids=["truncated", "nan", "not-utf8", "array-to-single", "object-to-batch", "deeply-nested"],
)
def test_a_body_that_is_not_the_right_json_is_400(api, path, body):
    response = api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["detail"]


def test_a_body_over_the_limit_is_413_and_stores_nothing(api):
    event = run_event("COMPLETE", "dag_a.load", new_run(), run_facets={"big": {"x": "y" * MAX_BODY_BYTES}})
    response = api.post(SINGLE, json=event)
    assert response.status_code == 413
    assert str(MAX_BODY_BYTES) in response.json()["detail"]
    assert _stored(api) == 0


def test_a_streamed_body_over_the_limit_is_413(api):
    chunks = (b"x" * 1024 * 1024 for _ in range(6))  # no Content-Length: chunked transfer
    response = api.post(SINGLE, content=chunks, headers=JSON)
    assert response.status_code == 413


def test_gzip_bodies_as_the_openlineage_http_transport_sends_them_are_accepted(api):
    event = run_event("COMPLETE", "dag_a.load", new_run(), outputs=[ds("clean")])
    body = gzip.compress(json.dumps(event).encode())
    response = api.post(SINGLE, content=body, headers={**JSON, "Content-Encoding": "gzip"})
    assert response.status_code == 201, response.text


def test_a_gzip_bomb_is_413_and_broken_gzip_400_and_other_encodings_415(api):
    bomb = gzip.compress(b"[" + b" " * (MAX_BODY_BYTES + 10) + b"]")
    gzipped = {**JSON, "Content-Encoding": "gzip"}
    assert api.post(BATCH, content=bomb, headers=gzipped).status_code == 413
    assert api.post(SINGLE, content=b"not gzip", headers=gzipped).status_code == 400
    assert api.post(SINGLE, content=b"{}", headers={**JSON, "Content-Encoding": "br"}).status_code == 415


def test_a_nul_character_anywhere_in_an_event_is_422_naming_the_field(api):
    event = run_event("COMPLETE", "dag_a.load", new_run(), run_facets={"note": {"text": "a\x00b"}})
    response = api.post(BATCH, json=[run_event("START", "dag_a.load", new_run()), event])
    assert response.status_code == 422
    assert (response.json()["index"], response.json()["field"]) == (1, "run.facets.note.text")
    assert _stored(api) == 0

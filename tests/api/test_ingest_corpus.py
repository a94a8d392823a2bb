"""Every spec test event and producer-shaped variants through REST: no server error, every accepted
event in the graph, every rejection naming its field (single events and batches alike)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.api import producers
from tests.conftest import SPEC_DIR
from tests.spec import VECTORS, wrap_vector

SINGLE, BATCH = "/api/v1/lineage", "/api/v1/lineage/batch"
LENIENT_FIELDS = {"no-schemaURL": "schemaURL", "time-without-zone": "eventTime"}

Case = tuple[str, dict[str, Any], str | None]  # (id, event, the field a rejection names; None: accepted)


def corpus() -> list[Case]:
    cases: list[Case] = [(f"spec/{p.parent.name}/{p.name}", wrap_vector(p), None) for p in VECTORS]
    cases.append(
        (
            "spec/example_full_event",
            json.loads((SPEC_DIR / "tests" / "example_full_event.json").read_text()),
            None,
        )
    )
    for name, make in (("dbt", producers.dbt), ("spark", producers.spark), ("flink", producers.flink)):
        cases.append((f"{name}/full", make(str(uuid.uuid4())), None))
        cases.append((f"{name}/minimal", producers.minimal(make(str(uuid.uuid4()))), None))
        cases += [
            (f"{name}/{form}", event, None) for form, event in producers.lenient(make(str(uuid.uuid4())))
        ]
    cases.append(("marquez/job-event-1-0-5", producers.job_event(), None))
    cases.append(("marquez/dataset-event-no-url-naive-time", producers.dataset_event(), None))
    cases += [(f"unusable/{i}", e, f) for i, e, f in producers.unusable(producers.dbt(str(uuid.uuid4())))]
    return cases


def _graph_ids(api: Any, node_id: str) -> set[str]:
    response = api.get("/api/v1/lineage", params={"nodeId": node_id, "depth": 2})
    assert response.status_code == 200, (node_id, response.text)
    return {n["id"] for n in response.json()["graph"]}


def _assert_in_graph(api: Any, ident: str, event: dict[str, Any]) -> None:
    if (
        "job" not in event
    ):  # a DatasetEvent (a RunEvent may carry a stray "dataset", as the spec's example does)
        ds = event["dataset"]
        assert f"dataset:{ds['namespace']}:{ds['name']}" in _graph_ids(
            api, f"dataset:{ds['namespace']}:{ds['name']}"
        )
        return
    job = f"job:{event['job']['namespace']}:{event['job']['name']}"
    datasets = {
        f"dataset:{d['namespace']}:{d['name']}"
        for d in [*(event.get("inputs") or []), *(event.get("outputs") or [])]
    }
    assert {job, *datasets} <= _graph_ids(api, job), ident


def test_every_corpus_event_posted_alone_is_in_the_graph_or_rejected_naming_its_field(api):
    accepted, rejected = 0, {}
    for ident, event, field in corpus():
        response = api.post(SINGLE, json=event)
        assert response.status_code < 500, (ident, response.text)
        if field is not None:
            assert response.status_code == 422, (ident, response.text)
            assert response.json()["field"] == field, ident
            rejected[ident] = field
            continue
        assert response.status_code == 201, (ident, response.text)
        body = response.json()
        assert body["stored"] == 1, ident
        form = ident.split("/")[1]
        if form in LENIENT_FIELDS:
            assert [n["field"] for n in body["normalised"]] == [LENIENT_FIELDS[form]], ident
        _assert_in_graph(api, ident, event)
        accepted += 1
    assert accepted == len(VECTORS) + 1 + 3 * 5 + 2
    assert rejected == {c[0]: c[2] for c in corpus() if c[2] is not None}


def test_the_corpus_as_one_batch_is_stored_and_each_unusable_event_is_named_by_index_and_field(api):
    cases = corpus()
    good = [(ident, event) for ident, event, field in cases if field is None]
    response = api.post(BATCH, json=[event for _, event in good])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["stored"] == len(good)
    expected = {
        i for i, (ident, _) in enumerate(good) if ident.split("/")[1] in LENIENT_FIELDS or "no-url" in ident
    }
    assert {n["index"] for n in body["normalised"]} == expected
    for ident, event in good:
        _assert_in_graph(api, ident, event)
    for ident, event, field in cases:
        if field is not None:
            bad = api.post(BATCH, json=[good[0][1], event])
            assert bad.status_code == 422, (ident, bad.text)
            assert (bad.json()["index"], bad.json()["field"]) == (1, field), ident

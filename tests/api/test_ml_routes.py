"""The model routes in Airflow's own API app: answers, approvals by editors only, visibility, errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.store.mlworld import FEATURES_ID, MODEL_ID, PREDICTIONS_ID, RAW_ID, SOURCE_ID, World, world


@pytest.fixture
def ml(api: Api, store: Any) -> World:
    w = world()
    store.record_many(w.events)
    return w


def test_models_lists_the_model_with_its_current_version(api: Api, ml: World) -> None:
    assert api.ok("/api/v1/ml/models")["models"] == [
        {
            "id": MODEL_ID,
            "namespace": "file",
            "name": "/models/house/model.json",
            "currentVersion": "v2",
            "framework": "python-ols",
            "metrics": {},  # those of v1 (evaluate1) are not the current version's
            "deployments": [],
            "updatedAt": api.ok("/api/v1/ml/models")["models"][0]["updatedAt"],
        }
    ]


def test_models_of_one_node_id_are_that_model_only(api: Api, ml: World) -> None:
    (one,) = api.ok("/api/v1/ml/models", nodeId=MODEL_ID)["models"]

    assert one["id"] == MODEL_ID
    assert api.ok("/api/v1/ml/models", nodeId=RAW_ID)["models"] == []  # a dataset, not a model
    assert api.get("/api/v1/ml/models", params={"nodeId": "dataset:file:/nope"}).status_code == 404


def test_provenance_impact_reproducible_and_diff_answer_as_the_python_api(
    api: Api, ml: World, store: Any
) -> None:
    provenance = api.ok("/api/v1/ml/provenance", nodeId=PREDICTIONS_ID)
    as_of = api.ok("/api/v1/ml/provenance", nodeId=MODEL_ID, asOf=f"run:{ml.runs['score']}")
    impact = api.ok("/api/v1/ml/impact", nodeId=RAW_ID)
    checklist = api.ok("/api/v1/ml/reproducible", nodeId=MODEL_ID, version="v1")
    diff = api.ok("/api/v1/ml/diff", runA=ml.runs["train1"], runB=ml.runs["train2"])
    record = api.ok(f"/api/v1/ml/runs/{ml.runs['train1']}/record")

    assert (
        provenance["sources"] == [SOURCE_ID]
        and provenance["steps"] == store.ml.provenance(PREDICTIONS_ID)["steps"]
    )
    assert as_of["version"] == "v1"
    assert {m["version"] for m in impact["models"]} == {"v1", "v2"}
    assert checklist["reproducible"] is True and checklist["runId"] == ml.runs["train1"]
    assert [c["key"] for c in diff["differences"]["inputs"]] == [FEATURES_ID]
    assert record["code"]["git"]["commit"] == "a" * 40 and record["seeds"][0]["seed"] == 42


def test_an_editor_approves_as_themself_and_a_viewer_may_not(api: Api, ml: World) -> None:
    body = {"nodeId": MODEL_ID, "reason": "holdout ok", "framework": "eu-ai-act", "version": "v1"}

    refused = api.post("/api/v1/ml/approvals", user="viewer", json=body)
    created = api.post("/api/v1/ml/approvals", user="editor", json=body)

    assert refused.status_code == 403
    assert created.status_code == 201, created.text
    assert created.json()["approvedBy"] == "editor" and created.json()["version"] == "v1"
    listed = api.ok("/api/v1/ml/approvals", user="viewer", nodeId=MODEL_ID)["approvals"]
    assert [(a["approvedBy"], a["framework"]) for a in listed] == [("editor", "eu-ai-act")]


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"nodeId": RAW_ID, "reason": "r"}, 400, "is not a model"),
        ({"nodeId": "dataset:file:/nope", "reason": "r"}, 404, "no node dataset:file:/nope"),
        ({"nodeId": MODEL_ID, "reason": "r", "version": "v9"}, 404, "version v9"),
        ({"nodeId": MODEL_ID, "reason": "r", "framework": "fda"}, 422, None),
        ({"nodeId": MODEL_ID, "reason": "r", "approvedBy": "someone-else"}, 422, None),
        ({"nodeId": MODEL_ID, "reason": ""}, 422, None),
    ],
)
def test_bad_approvals_are_refused_and_store_nothing(
    api: Api, ml: World, store: Any, body: dict[str, Any], status: int, detail: str | None
) -> None:
    before = len(list(store.events()))

    response = api.post("/api/v1/ml/approvals", user="editor", json=body)

    assert response.status_code == status, response.text
    if detail:
        assert detail in response.json()["detail"]
    assert len(list(store.events())) == before


def test_a_reader_of_other_dags_does_not_see_the_model(api: Api, ml: World) -> None:
    for path, params in (
        ("/api/v1/ml/provenance", {"nodeId": MODEL_ID}),
        ("/api/v1/ml/reproducible", {"nodeId": MODEL_ID}),
        ("/api/v1/ml/audit", {"nodeId": MODEL_ID}),
        ("/api/v1/ml/diff", {"runA": ml.runs["train1"], "runB": ml.runs["train2"]}),
        (f"/api/v1/ml/runs/{ml.runs['train1']}/record", {}),
    ):
        assert api.get(path, user="viewer_a", params=params).status_code == 404, path
    assert api.ok("/api/v1/ml/models", user="viewer_a")["models"] == []
    typo = api.get("/api/v1/ml/provenance", user="viewer_a", params={"nodeId": MODEL_ID[:-1]})
    assert typo.status_code == 404 and typo.json()["suggestions"] == []  # no hidden names leak
    assert api.get("/api/v1/ml/provenance", params={"nodeId": MODEL_ID[:-1]}).json()["suggestions"] == [
        MODEL_ID
    ]
    assert api.get("/api/v1/ml/verify", user="viewer_a").status_code == 403


def test_audit_is_served_as_json_markdown_and_escaped_html(api: Api, ml: World, store: Any) -> None:
    store.ml.approve(MODEL_ID, "<b>mallory</b>", "ok", version="v1")

    as_json = api.ok("/api/v1/ml/audit", nodeId=MODEL_ID, version="v1")
    markdown = api.get("/api/v1/ml/audit", params={"nodeId": MODEL_ID, "version": "v1", "format": "markdown"})
    page = api.get("/api/v1/ml/audit", params={"nodeId": MODEL_ID, "version": "v1", "format": "html"})

    assert as_json["training"]["runId"] == ml.runs["train1"] and as_json["chain"]["ok"] is True
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("# Audit report")
    assert page.headers["content-type"].startswith("text/html")
    assert "&lt;b&gt;mallory&lt;/b&gt;" in page.text and "<b>mallory" not in page.text


def test_verify_reports_the_chain(api: Api, ml: World) -> None:
    assert api.ok("/api/v1/ml/verify") == {
        "ok": True,
        "checked": len(ml.events),
        "firstBadEventId": None,
        "firstBadEventKey": None,
        "problem": None,
    }


def test_verify_artifacts_gives_the_verdict_of_the_python_api_and_of_the_audit(
    api: Api, ml: World, store: Any
) -> None:
    found = api.ok("/api/v1/ml/verify/artifacts", nodeId=MODEL_ID)

    assert found == store.ml.verify_artifacts(MODEL_ID)
    assert found["artifacts"] == api.ok("/api/v1/ml/audit", nodeId=MODEL_ID)["artifacts"]["artifacts"]
    # the world's events carry no fingerprints: nothing to compare, nothing found changed
    assert {(a["status"], a["detail"]) for a in found["artifacts"]} == {
        ("not checkable", "no fingerprint was recorded")
    }
    assert found["ok"] is True


def test_unknown_runs_and_bad_ids_get_their_status(api: Api, ml: World) -> None:
    missing = "00000000-0000-0000-0000-000000000000"

    assert api.get("/api/v1/ml/diff", params={"runA": missing, "runB": ml.runs["train1"]}).status_code == 404
    assert api.get("/api/v1/ml/diff", params={"runA": "x", "runB": "y"}).status_code == 400
    assert api.get(f"/api/v1/ml/runs/{missing}/record").status_code == 404
    assert api.get("/api/v1/ml/provenance", params={"nodeId": "nonsense"}).status_code == 400

"""Per-DAG read isolation on a dataset two DAGs share, through every read route of the OpenAPI.

dag_b (which viewer_a may not read) writes ``shared`` (facets, schema and column lineage naming its
private source) and the latest versions of ``both`` and of a model, and declares (the spec's lineage
facet) a field of ``both`` computed from a field of ``shared``; dag_a reads ``shared`` and writes
``both`` and the model.
Every read route is called as viewer_a with parameters pointing at what viewer_a may see (and with
``asOf`` naming dag_b's run); nothing only dag_b wrote may appear: job names, run ids, facet keys,
field names, dataset names. The same calls as admin must show those markers, or the test proves nothing.
"""

from __future__ import annotations

from typing import Any

from tests.api.routes import calls
from tests.store.events import at, ds, new_run

PG = "postgres://shared:5432"
SHARED, BOTH, B_PRIVATE, MODEL = "public.shared", "public.both", "public.b_private", "models.a_model"
B_JOB, A_JOB = "dag_b.secret_writer", "dag_a.reader"


def _facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": "p", "_schemaURL": "https://example.com/f.json", **fields}


def _event(job: str, run_id: str, minute: int, inputs: list, outputs: list, run_facets: dict) -> dict:
    return {
        "eventType": "COMPLETE",
        "eventTime": at(minute),
        "producer": "p",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id, "facets": run_facets},
        "job": {"namespace": "airflow", "name": job, "facets": {}},
        "inputs": inputs,
        "outputs": outputs,
    }


def world(b_run: str, a_run: str, a_run2: str) -> list[dict[str, Any]]:
    b_schema = _facet(fields=[{"name": "b_secret_col", "type": "TEXT"}])
    b_lineage = _facet(
        fields={"b_secret_col": {"inputFields": [{"namespace": PG, "name": B_PRIVATE, "field": "b_src_col"}]}}
    )
    b_outputs = [
        ds(
            SHARED,
            PG,
            schema=b_schema,
            columnLineage=b_lineage,
            bSecretFacet=_facet(x=1),
            documentation=_facet(description="b_secret_doc"),
        ),
        ds(BOTH, PG, bSecretFacet=_facet(x=2), schema=b_schema),
        ds(
            MODEL,
            PG,
            datasetType=_facet(datasetType="MODEL"),
            version=_facet(datasetVersion="b_secret_version"),
        ),
    ]
    a_schema = _facet(fields=[{"name": "a_col", "type": "INT"}])
    a_outputs = [
        ds(BOTH, PG, schema=a_schema, aFacet=_facet(y=1)),
        ds(MODEL, PG, datasetType=_facet(datasetType="MODEL"), schema=a_schema),
    ]
    a_inputs = [ds(SHARED, PG)]
    source = {"namespace": PG, "name": SHARED, "type": "DATASET", "field": "b_declared_src"}
    declared = _facet(fields={"b_declared_col": {"inputs": [source]}})
    declaring = {
        "eventTime": at(10),
        "producer": "p",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": "airflow", "name": B_JOB, "facets": {}},
        "outputs": [ds(BOTH, PG, lineage=declared)],
    }
    return [
        declaring,
        _event(B_JOB, b_run, 9, [ds(B_PRIVATE, PG)], b_outputs, {"bSecretRunFacet": _facet(z=1)}),
        _event(A_JOB, a_run, 2, a_inputs, a_outputs, {"aRunFacet": _facet(z=2)}),
        _event(A_JOB, a_run2, 8, a_inputs, a_outputs[1:], {"aRunFacet": _facet(z=3)}),
    ]


def test_nothing_only_the_other_dag_wrote_reaches_a_reader_of_one_dag(api):
    b_run, a_run, a_run2 = new_run(), new_run(), new_run()
    assert api.post("/api/v1/lineage/batch", json=world(b_run, a_run, a_run2)).status_code == 201
    approval = {"nodeId": f"dataset:{PG}:{MODEL}", "reason": "ok", "version": "b_secret_version"}
    assert api.post("/api/v1/ml/approvals", "editor", json=approval).status_code == 201
    markers = [
        B_JOB,
        b_run,
        "bSecretFacet",
        "bSecretRunFacet",
        "b_secret_col",
        "b_src_col",
        B_PRIVATE,
        "b_secret_doc",
        "b_secret_version",
        "b_declared_col",
        "b_declared_src",
    ]
    spec = api.get("/openapi.json", None).json()
    values = {
        "nodeId": [f"dataset:{PG}:{n}" for n in (SHARED, BOTH, MODEL)]
        + [f"job:airflow:{A_JOB}", f"run:{a_run}", f"datasetField:{PG}:{SHARED}:b_secret_col"],
        "namespace": [PG, "airflow"],
        "dataset": [SHARED, BOTH, MODEL],
        "job": [A_JOB],
        "run_id": [a_run],
        "dag_id": ["dag_a"],
        "runA": [a_run],
        "runB": [a_run2],
        "q": ["public", "dag", "secret"],
        "asOf": [b_run],
        "withDownstream": ["true"],
        "limit": [2],
        "format": ["csv", "markdown", "html"],
    }
    leaks: list[str] = []
    seen_by_admin: set[str] = set()
    answered = set()
    for call in calls(spec, values):
        mine = api.get(call.path, "viewer_a", params=call.params)
        if mine.status_code == 200:
            answered.add(call.operation)
        asked = f"{call.path} {call.params}"  # a marker the request itself names may be echoed
        leaks += [f"{call} -> {m}" for m in markers if m in mine.text and m not in asked]
        admin = api.get(call.path, "admin", params=call.params)
        seen_by_admin.update(m for m in markers if m in admin.text)
    assert not leaks, "\n".join(leaks)
    assert seen_by_admin == set(markers)  # every marker is really there to leak
    never = {f"GET {p}" for p, item in spec["paths"].items() if "get" in item} - answered
    assert never <= {"GET /api/v1/ml/verify"}, never  # verify needs a reader of every DAG

    shared = api.ok(
        f"/api/v1/namespaces/{PG.replace('/', '%2F').replace(':', '%3A')}/datasets/{SHARED}", "viewer_a"
    )
    assert shared["restricted"] is True and shared["facets"] == {} and shared["currentVersion"] is None
    unknown = api.get(
        "/api/v1/lineage", "viewer_a", params={"nodeId": f"job:airflow:{A_JOB}", "asOf": new_run()}
    )
    hidden = api.get("/api/v1/lineage", "viewer_a", params={"nodeId": f"job:airflow:{A_JOB}", "asOf": b_run})
    assert (hidden.status_code, unknown.status_code) == (400, 400), (hidden.text, unknown.text)
    assert hidden.json()["detail"].replace(b_run, "X") == unknown.json()["detail"].replace(
        unknown.request.url.params["asOf"], "X"
    )


def test_limit_and_is_partial_count_only_the_nodes_a_reader_may_see(api):
    b_run, a_run, a_run2 = new_run(), new_run(), new_run()
    assert api.post("/api/v1/lineage/batch", json=world(b_run, a_run, a_run2)).status_code == 201
    around = {"nodeId": f"dataset:{PG}:{SHARED}", "depth": 4}
    everything = api.ok("/api/v1/lineage", "viewer_a", **around, limit=1000)
    count = len(everything["graph"])
    assert not everything["isPartial"] and B_JOB not in str(everything)
    exact = api.ok("/api/v1/lineage", "viewer_a", **around, limit=count)
    assert len(exact["graph"]) == count and exact["isPartial"] is False
    fewer = api.ok("/api/v1/lineage", "viewer_a", **around, limit=count - 1)
    assert len(fewer["graph"]) == count - 1 and fewer["isPartial"] is True
    assert len(api.ok("/api/v1/lineage", "admin", **around, limit=1000)["graph"]) > count

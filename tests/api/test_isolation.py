"""Per-DAG read isolation on a dataset two DAGs share, through every read route of the OpenAPI.

dag_b (which viewer_a may not read) writes ``shared`` (facets, schema and column lineage naming its
private source) and the latest versions of ``both`` and of a model, and declares (the spec's lineage
facet) a field of ``both`` computed from a field of ``shared``; dag_a reads ``shared`` and writes
``both``, the model and ``a_only`` (twice in one run, with column lineage from a dataset no job reads).
dag_b writes first (so it created the shared nodes) and again last (so it changed them last), the
second time naming one of dag_a's jobs as its ParentRunFacet parent with a run id of its own, and a
job of dag_a's that nothing else names. ``a_declares`` only dag_b's runs write; dag_a knows it only from
a JobEvent naming it as an output, so no run viewer_a may read touched it.
Every read route is called as viewer_a with parameters pointing at what viewer_a may see (and with
``asOf`` naming dag_b's run); nothing only dag_b wrote may appear: job names, run ids, facet keys,
field names, dataset names, and the times dag_b's writes gave the nodes. The same calls as admin must
show those markers, or the test proves nothing. ``restricted`` must be true exactly where something
was hidden from viewer_a.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from airflow_lineage_provider.store.catalog import Catalog
from airflow_lineage_provider.store.visibility import Scope
from tests.api.routes import calls
from tests.store.events import at, ds, new_run

PG = "postgres://shared:5432"
SHARED, BOTH, B_PRIVATE, MODEL = "public.shared", "public.both", "public.b_private", "models.a_model"
A_ONLY, UNSEEN = "public.a_only", "public.a_unseen_src"
PREDICTED = "public.a_predictions"  # a batch-scoring run of dag_a's: its run id is a trace id
DECLARED_ONLY = "public.a_declares"  # dag_a knows it only from a JobEvent; only dag_b's runs write it
B_JOB, A_JOB = "dag_b.secret_writer", "dag_a.reader"
GHOST = "dag_a.named_only_by_b"  # a job of dag_a's that only dag_b's ParentRunFacet names


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


@dataclass(frozen=True)
class Runs:
    b: str = field(default_factory=new_run)
    b_later: str = field(default_factory=new_run)
    a: str = field(default_factory=new_run)
    a2: str = field(default_factory=new_run)
    a_twice: str = field(default_factory=new_run)  # two COMPLETEs of one run, different facets
    named_by_b: str = field(default_factory=new_run)  # the parent run id dag_b's event makes up
    b_ghost: str = field(default_factory=new_run)
    a_predicts: str = field(default_factory=new_run)


def world(runs: Runs) -> list[list[dict[str, Any]]]:
    """The events, in the batches to post them in: dag_b, then dag_a, then dag_b again."""
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
        ds(DECLARED_ONLY, PG, bSecretFacet=_facet(x=4)),
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
    unseen = [{"namespace": PG, "name": UNSEEN, "field": f"u{i}"} for i in range(3)]
    a_only = ds(A_ONLY, PG, schema=a_schema, columnLineage=_facet(fields={"a_col": {"inputFields": unseen}}))
    parent = _facet(run={"runId": runs.named_by_b}, job={"namespace": "airflow", "name": A_JOB})
    ghost = _facet(run={"runId": new_run()}, job={"namespace": "airflow", "name": GHOST})
    b_later = [ds(SHARED, PG, bLaterFacet=_facet(x=3)), ds(DECLARED_ONLY, PG)]
    source = {"namespace": PG, "name": SHARED, "type": "DATASET", "field": "b_declared_src"}
    declared = _facet(fields={"b_declared_col": {"inputs": [source]}})
    declaring = {
        "eventTime": at(10),
        "producer": "p",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": "airflow", "name": B_JOB, "facets": {}},
        "outputs": [ds(BOTH, PG, lineage=declared)],
    }
    scored = _facet(model={"namespace": PG, "name": MODEL}, deployment={"target": "t", "environment": "e"})
    predicted = ds(
        PREDICTED,
        PG,
        datasetType=_facet(datasetType="PREDICTIONS"),
        airflowLineage_predictions={**scored, "count": 1, "records": [{"inputHash": "sha256:0"}]},
    )
    a_declaring = {**declaring, "eventTime": at(5), "job": {**declaring["job"], "name": A_JOB}}
    a_declaring["outputs"] = [ds(DECLARED_ONLY, PG)]
    return [
        [
            _event(B_JOB, runs.b, 9, [ds(B_PRIVATE, PG)], b_outputs, {"bSecretRunFacet": _facet(z=1)}),
            declaring,
        ],
        [
            _event(A_JOB, runs.a, 2, a_inputs, a_outputs, {"aRunFacet": _facet(z=2)}),
            _event(A_JOB, runs.a2, 8, a_inputs, a_outputs[1:], {"aRunFacet": _facet(z=3)}),
            _event(A_JOB, runs.a_twice, 3, [], [a_only], {}),
            _event(A_JOB, runs.a_twice, 4, [], [ds(A_ONLY, PG, aSecondFacet=_facet(w=1))], {}),
            a_declaring,
            _event(A_JOB, runs.a_predicts, 7, [ds(MODEL, PG)], [predicted], {}),
        ],
        [
            _event(B_JOB, runs.b_later, 12, [ds(B_PRIVATE, PG)], b_later, {"parent": parent}),
            _event("dag_b.other", runs.b_ghost, 13, [], [], {"parent": ghost}),
        ],
    ]


def _post(api: Any, runs: Runs) -> None:
    for batch in world(runs):  # one batch each: each is stored at its own time
        assert api.post("/api/v1/lineage/batch", json=batch).status_code == 201


def _path(namespace: str, dataset: str) -> str:
    return f"/api/v1/namespaces/{namespace.replace('/', '%2F').replace(':', '%3A')}/datasets/{dataset}"


def _restricted(found: Any, owner: str = "") -> Iterator[tuple[str, bool]]:
    """(the name or id of the object, its ``restricted``) for every object of a response that has one."""
    if isinstance(found, dict):
        owner = str(found.get("id") if isinstance(found.get("id"), str) else found.get("name", owner))
        if isinstance(found.get("restricted"), bool):
            yield owner, found["restricted"]
        for value in found.values():
            yield from _restricted(value, owner)
    elif isinstance(found, list):
        for value in found:
            yield from _restricted(value, owner)


def test_nothing_only_the_other_dag_wrote_reaches_a_reader_of_one_dag(api):
    runs = Runs()
    b_run, a_run = runs.b, runs.a
    _post(api, runs)
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
        "bLaterFacet",
        runs.b_later,
        runs.named_by_b,
        GHOST,
        "b_declared_col",
        "b_declared_src",
    ]
    shared = api.ok(_path(PG, SHARED), "admin")
    b_times = {shared["createdAt"], shared["updatedAt"]}  # dag_b created it and changed it last
    assert len(b_times) == 2, shared
    markers += sorted(b_times)
    declared_only = api.ok(_path(PG, DECLARED_ONLY), "admin")  # dag_b's runs gave it both its times
    markers += sorted({declared_only["createdAt"], declared_only["updatedAt"]} - set(markers))
    spec = api.get("/openapi.json", None).json()
    values = {
        "nodeId": [f"dataset:{PG}:{n}" for n in (SHARED, BOTH, MODEL, A_ONLY, DECLARED_ONLY)]
        + [f"job:airflow:{A_JOB}", f"run:{a_run}", f"datasetField:{PG}:{SHARED}:b_secret_col"],
        "namespace": [PG, "airflow"],
        "dataset": [SHARED, BOTH, MODEL, A_ONLY, DECLARED_ONLY],
        "job": [A_JOB],
        "run_id": [a_run],
        "trace_id": [runs.a_predicts],
        "dag_id": ["dag_a"],
        "runA": [a_run],
        "runB": [runs.a2],
        "q": ["public", "dag", "secret"],
        "asOf": [b_run],
        "withDownstream": ["true"],
        "limit": [2],
        "sort": ["updated_at"],
        "format": ["csv", "markdown", "html"],
    }
    leaks: list[str] = []
    seen_by_admin: set[str] = set()
    answered = set()
    restricted: dict[str, set[bool]] = {}
    for call in calls(spec, values):
        mine = api.get(call.path, "viewer_a", params=call.params)
        if mine.status_code == 200:
            answered.add(call.operation)
        if mine.status_code == 200 and mine.headers["content-type"].startswith("application/json"):
            for owner, flag in _restricted(mine.json()):
                restricted.setdefault(owner.removeprefix(f"dataset:{PG}:"), set()).add(flag)
        asked = f"{call.path} {call.params}"  # a marker the request itself names may be echoed
        leaks += [f"{call} -> {m}" for m in markers if m in mine.text and m not in asked]
        admin = api.get(call.path, "admin", params=call.params)
        seen_by_admin.update(m for m in markers if m in admin.text)
    assert not leaks, "\n".join(leaks)
    assert seen_by_admin == set(markers)  # every marker is really there to leak
    never = {f"GET {p}" for p, item in spec["paths"].items() if "get" in item} - answered
    assert never <= {"GET /api/v1/ml/verify"}, never  # verify needs a reader of every DAG

    # restricted exactly where something was hidden: dag_b wrote shared, both and the model (which
    # also has an approval); a_only only dag_a wrote, twice in one run, with different facets
    assert restricted == {
        SHARED: {True},
        BOTH: {True},
        MODEL: {True},
        A_ONLY: {False},
        DECLARED_ONLY: {True},
        PREDICTED: {False},
    }, restricted
    declares = api.ok(_path(PG, DECLARED_ONLY), "viewer_a")  # its times: those of dag_a's JobEvent
    assert declares["createdAt"] == declares["updatedAt"] and declares["facets"] == {}, declares
    shared = api.ok(_path(PG, SHARED), "viewer_a")
    assert shared["restricted"] is True and shared["facets"] == {} and shared["currentVersion"] is None
    a_only = api.ok(_path(PG, A_ONLY), "viewer_a")
    assert a_only == api.ok(_path(PG, A_ONLY), "admin")
    assert {"aSecondFacet", "columnLineage", "schema"} <= set(a_only["facets"])
    found = api.ok("/api/v1/search", "viewer_a", q="public", sort="updated_at")["results"]
    newest_first = [r["updatedAt"] for r in found]
    assert len(found) >= 3 and newest_first == sorted(newest_first, reverse=True), found
    unknown = api.get(
        "/api/v1/lineage", "viewer_a", params={"nodeId": f"job:airflow:{A_JOB}", "asOf": new_run()}
    )
    hidden = api.get("/api/v1/lineage", "viewer_a", params={"nodeId": f"job:airflow:{A_JOB}", "asOf": b_run})
    assert (hidden.status_code, unknown.status_code) == (400, 400), (hidden.text, unknown.text)
    assert hidden.json()["detail"].replace(b_run, "X") == unknown.json()["detail"].replace(
        unknown.request.url.params["asOf"], "X"
    )


def test_limit_and_is_partial_count_only_the_nodes_a_reader_may_see(api):
    _post(api, Runs())
    around = {"nodeId": f"dataset:{PG}:{SHARED}", "depth": 4}
    everything = api.ok("/api/v1/lineage", "viewer_a", **around, limit=1000)
    count = len(everything["graph"])
    assert not everything["isPartial"] and B_JOB not in str(everything)
    exact = api.ok("/api/v1/lineage", "viewer_a", **around, limit=count)
    assert len(exact["graph"]) == count and exact["isPartial"] is False
    fewer = api.ok("/api/v1/lineage", "viewer_a", **around, limit=count - 1)
    assert len(fewer["graph"]) == count - 1 and fewer["isPartial"] is True
    assert len(api.ok("/api/v1/lineage", "admin", **around, limit=1000)["graph"]) > count


def test_the_column_lineage_cap_counts_only_the_fields_a_reader_may_see(api, store):
    _post(api, Runs())
    a_only = f"dataset:{PG}:{A_ONLY}"
    catalog, reader = Catalog(store), Scope("airflow", frozenset({"dag_a"}))
    for cap in (1, 2):  # a_col is the one visible field; u0..u2 of a_unseen_src no visible job touches
        mine = catalog.column_lineage(reader, a_only, depth=3, downstream=False, max_fields=cap)
        assert [n["id"] for n in mine.nodes] == [f"datasetField:{PG}:{A_ONLY}:a_col"]
        assert mine.is_partial is False
    everything = catalog.column_lineage(Scope("airflow"), a_only, depth=3, downstream=False, max_fields=2)
    assert everything.is_partial is True  # the hidden fields are there to count

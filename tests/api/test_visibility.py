"""Who sees what: the rule as functions, and DAG isolation through every read route.

viewer_a may read only dag_a, viewer_b only dag_b (tests.api.authmanager); admin and viewer may read
every DAG. The Spark job is not an Airflow job: only readers of every DAG see it.
"""

from __future__ import annotations

import pytest

from airflow_lineage_provider.api.visibility import filter_graph, may_ingest, reader_scope
from airflow_lineage_provider.core.graph import Edge, LineageGraph, Node
from airflow_lineage_provider.store.visibility import Scope, job_visible, owner
from tests.api import world
from tests.api.world import PG, segment
from tests.store.events import new_run, run_event


class FakeAuthManager:
    """In-memory stand-in for an auth manager: DAG ids per user; None = every DAG."""

    def __init__(self, readable: set[str] | None, editor: bool = False) -> None:
        self.readable, self.editor = readable, editor

    def is_authorized_dag(self, *, method, user, details=None, access_entity=None):
        if method == "GET":
            return self.readable is None
        return self.editor

    def get_authorized_dag_ids(self, *, user, method="GET"):
        return set(self.readable or ())


def test_a_reader_of_every_dag_gets_an_unrestricted_scope_and_others_their_dags():
    assert reader_scope(FakeAuthManager(None), "u", "airflow") == Scope("airflow")
    assert reader_scope(FakeAuthManager({"a"}), "u", "airflow") == Scope("airflow", frozenset({"a"}))
    assert may_ingest(FakeAuthManager(None, editor=True), "u") and not may_ingest(FakeAuthManager(None), "u")


@pytest.mark.parametrize(
    ("namespace", "name", "visible"),
    [
        ("airflow", "etl", True),
        ("airflow", "etl.load", True),
        ("airflow", "etl.load.query.1", True),
        ("airflow", "etl_other.load", False),
        ("airflow", "etlx", False),
        ("airflow", "etl.private", False),  # etl.private is a DAG of its own, not readable
        ("airflow", "etl.private.task", False),
        ("airflow", "etl.private.public.task", True),  # owned by the longer readable etl.private.public
        ("spark", "etl.load", False),
    ],
)
def test_a_job_belongs_to_the_longest_known_dag_id_that_prefixes_its_name(namespace, name, visible):
    scope = Scope("airflow", frozenset({"etl", "etl.private.public"}), frozenset({"etl.private"}))
    assert job_visible(namespace, name, scope) is visible
    assert owner("etl.private.x", scope) == "etl.private"


def test_filter_graph_keeps_the_root_visible_nodes_and_edges_between_them():
    nodes = [
        Node(i, t, ns, i) for i, t, ns in [("r", "dataset", "a"), ("j", "job", "x"), ("d", "dataset", "b")]
    ]
    graph = LineageGraph("r", "both", 5, nodes, [Edge("r", "j", "input"), Edge("j", "d", "output")])
    assert [n.id for n in filter_graph(graph, {"r", "d"}).nodes] == ["r", "d"]
    assert filter_graph(graph, {"r", "d"}).edges == []
    assert [n.id for n in filter_graph(graph, {"r", "j", "d"}, types={"job"}).nodes] == ["r", "j"]
    assert [n.id for n in filter_graph(graph, {"r", "j", "d"}, namespace="b").nodes] == ["r", "d"]


@pytest.fixture
def loaded(api):
    assert api.post("/api/v1/lineage/batch", json=world.events()).status_code == 201
    return api


def _ids(graph: dict) -> set[str]:
    return {n["id"] for n in graph["graph"]}


def test_each_viewer_sees_only_their_dag_and_the_datasets_it_touches(loaded):
    everything = {world.SRC_ID, world.EXTRACT_ID, world.ODD_ID, world.TRANSFORM_ID, world.B_ONLY_ID}
    everything |= {world.SPARK_ID, world.SPARK_OUT_ID}
    users = ("admin", "viewer", "viewer_a", "viewer_b")
    graph = {u: _ids(loaded.ok("/api/v1/lineage", u, nodeId=world.ODD_ID, depth=20)) for u in users}
    assert graph["admin"] == graph["viewer"] == everything
    assert graph["viewer_a"] == {world.SRC_ID, world.EXTRACT_ID, world.ODD_ID}
    assert graph["viewer_b"] == {world.ODD_ID, world.TRANSFORM_ID, world.B_ONLY_ID}


def test_a_node_only_another_dag_touches_is_404_for_a_viewer_not_403(loaded):
    for path, params in [
        ("/api/v1/lineage", {"nodeId": world.B_ONLY_ID}),
        ("/api/v1/impact", {"nodeId": world.B_ONLY_ID}),
        ("/api/v1/column-lineage", {"nodeId": world.B_ONLY_ID}),
        (f"/api/v1/namespaces/{segment(PG)}/datasets/{segment(world.B_ONLY)}", {}),
        (f"/api/v1/namespaces/{segment(PG)}/datasets/{segment(world.B_ONLY)}/versions", {}),
        ("/api/v1/namespaces/airflow/jobs/dag_b.transform", {}),
        ("/api/v1/namespaces/airflow/jobs/dag_b.transform/runs", {}),
        ("/api/v1/namespaces/spark", {}),
    ]:
        assert loaded.get(path, "viewer_a", params=params).status_code == 404, path
        assert loaded.get(path, "viewer", params=params).status_code == 200, path


def test_lists_search_and_events_hold_only_what_the_viewer_may_see(loaded):
    viewer_a = "viewer_a"
    assert [n["name"] for n in loaded.ok("/api/v1/namespaces", viewer_a)["namespaces"]] == ["airflow", PG]
    assert [j["name"] for j in loaded.ok("/api/v1/namespaces/airflow/jobs", viewer_a)["jobs"]] == [
        "dag_a",
        "dag_a.extract",
    ]
    datasets = loaded.ok(f"/api/v1/namespaces/{segment(PG)}/datasets", viewer_a)
    assert datasets["totalCount"] == 2 and {d["name"] for d in datasets["datasets"]} == {world.SRC, world.ODD}
    found = loaded.ok("/api/v1/search", viewer_a, q="b", limit=100)["results"]
    assert world.B_ONLY_ID not in {r["nodeId"] for r in found} and world.TRANSFORM_ID not in str(found)
    events = loaded.ok("/api/v1/events/lineage", viewer_a)
    assert {e["job"]["name"] for e in events["events"]} == {"dag_a", "dag_a.extract"}
    assert events["totalCount"] == 3


def test_a_run_of_another_dag_is_404_and_suggestions_never_name_hidden_nodes(loaded):
    run_id = new_run()
    loaded.post("/api/v1/lineage", json=run_event("COMPLETE", "dag_b.other", run_id))
    assert loaded.get(f"/api/v1/jobs/runs/{run_id}", "viewer_b").status_code == 200
    assert loaded.get(f"/api/v1/jobs/runs/{run_id}", "viewer_a").status_code == 404
    typo = {"nodeId": f"dataset:{PG}:public.b_onl"}
    assert loaded.get("/api/v1/lineage", "viewer", params=typo).json()["suggestions"] == [world.B_ONLY_ID]
    assert loaded.get("/api/v1/lineage", "viewer_a", params=typo).json()["suggestions"] == []


def test_only_users_who_may_edit_every_dag_may_ingest(loaded):
    event = run_event("COMPLETE", "dag_a.x", new_run())
    assert loaded.post("/api/v1/lineage", "viewer", json=event).status_code == 403
    assert loaded.post("/api/v1/lineage/batch", "viewer_a", json=[event]).status_code == 403
    assert loaded.post("/api/v1/lineage", "editor", json=event).status_code == 201


def test_the_dag_lineage_tab_shows_what_a_dag_reads_and_writes_to_its_readers_only(loaded):
    depth_one = {"depth": 1}
    for user in ("admin", "viewer_a"):
        graph = loaded.ok("/api/v1/dags/dag_a/lineage", user, **depth_one)
        assert graph["root"] == "job:airflow:dag_a"
        # the task job and the datasets it touches; the DAG's own job has no edges and is left out
        assert _ids(graph) == {world.EXTRACT_ID, world.SRC_ID, world.ODD_ID}, user
    deeper = _ids(loaded.ok("/api/v1/dags/dag_a/lineage", "admin", depth=3, direction="downstream"))
    assert {world.TRANSFORM_ID, world.B_ONLY_ID} <= deeper  # beyond the DAG: who consumes its output
    hidden = _ids(loaded.ok("/api/v1/dags/dag_a/lineage", "viewer_a", depth=3, direction="downstream"))
    assert world.TRANSFORM_ID not in hidden and world.B_ONLY_ID not in hidden
    assert loaded.get("/api/v1/dags/dag_b/lineage", "viewer_a").status_code == 404
    missing = loaded.get("/api/v1/dags/no_such_dag/lineage", "admin")
    assert missing.status_code == 404 and "job:airflow:no_such_dag" in missing.json()["detail"]
    assert loaded.get("/api/v1/dags/dag_a/lineage", "admin", params={"depth": 101}).status_code == 422

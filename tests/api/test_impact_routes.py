"""``GET /impact/summary`` and ``GET /impact/nodes`` through Airflow's own app, as admin and as a reader
of one DAG, on the world of the store's impact tests (tests/store/test_impact.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.store.test_impact import RAW, W, world


@pytest.fixture
def loaded(api: Any, store: Any) -> Any:
    store.record_many(world("dag_a", "dag_b"))
    return api


def _pages(api: Any, user: str, limit: int) -> tuple[list[dict[str, Any]], set[int]]:
    nodes: list[dict[str, Any]] = []
    totals: set[int] = set()
    offset = 0
    while True:
        page = api.ok("/api/v1/impact/nodes", user, nodeId=RAW, offset=offset, limit=limit)
        totals.add(page["total"])
        if not page["nodes"]:
            return nodes, totals
        assert page["offset"] == offset
        nodes.extend(page["nodes"])
        offset += limit


def test_the_summary_counts_what_each_reader_may_see(loaded: Any) -> None:
    admin = loaded.ok("/api/v1/impact/summary", nodeId=RAW)
    assert admin["total"] == 8 and admin["jobsWithoutDag"] == 1
    assert {d["dagId"]: d["jobs"] for d in admin["dags"]} == {"dag_a": 2, "dag_b": 1}
    assert {e["owner"]: e["count"] for e in admin["byOwner"]} == {
        "alice": 1,
        "bob": 1,
        "carol": 2,
        "mallory": 1,
    }

    viewer = loaded.ok("/api/v1/impact/summary", "viewer_a", nodeId=RAW)
    assert viewer["total"] == 4 and viewer["dags"] == [{"dagId": "dag_a", "namespace": "airflow", "jobs": 2}]
    assert {e["namespace"]: e["count"] for e in viewer["byNamespace"]} == {"airflow": 2, W: 2}
    for hidden in ("dag_b", "mallory", "carol", "spark", "s3://"):
        assert hidden not in repr(viewer)
    assert loaded.ok("/api/v1/impact/summary", nodeId=RAW, depth=2)["total"] == 2


def test_pages_go_through_the_whole_downstream_set_for_each_reader(loaded: Any) -> None:
    nodes, totals = _pages(loaded, "admin", 3)
    assert totals == {8} and len({n["id"] for n in nodes}) == 8
    assert [n["depth"] for n in nodes] == sorted(n["depth"] for n in nodes)
    graph = loaded.ok("/api/v1/lineage", nodeId=RAW, direction="downstream")
    assert {n["id"] for n in nodes} == {n["id"] for n in graph["graph"]} - {RAW}

    nodes, totals = _pages(loaded, "viewer_a", 3)
    assert totals == {4} and {n["name"] for n in nodes} == {"dag_a.clean", "clean", "dag_a.report", "report"}


def test_bad_input_and_hidden_roots(loaded: Any) -> None:
    missing = loaded.get("/api/v1/impact/summary", params={"nodeId": f"dataset:{W}:ra"})
    assert missing.status_code == 404 and missing.json()["error"] == "NodeNotFoundError"
    assert f"dataset:{W}:raw" in missing.json()["suggestions"]
    hidden = loaded.get("/api/v1/impact/summary", "viewer_b", params={"nodeId": RAW})
    assert hidden.status_code == 404 and hidden.json()["suggestions"] == []
    near = loaded.get("/api/v1/impact/summary", "viewer_b", params={"nodeId": f"dataset:{W}:ra"})
    assert near.status_code == 404 and RAW not in near.json()["suggestions"]  # only dag_a reads raw
    for params in ({"nodeId": RAW, "depth": 101}, {"nodeId": RAW, "offset": -1}, {"nodeId": RAW, "limit": 0}):
        assert loaded.get("/api/v1/impact/nodes", params=params).status_code == 422, params
    assert loaded.get("/api/v1/impact/summary", None, params={"nodeId": RAW}).status_code == 401

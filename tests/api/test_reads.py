"""Marquez-compatible reads: same paths, parameters and JSON shapes, names with '/' and ':' in paths."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api import world
from tests.api.world import PG, segment

NS = f"/api/v1/namespaces/{segment(PG)}"
ODD_PATH = f"{NS}/datasets/{segment(world.ODD)}"


@pytest.fixture
def loaded(api):
    assert api.post("/api/v1/lineage/batch", json=world.events()).status_code == 201
    return api


def _edges(node, side):
    return {(e["origin"], e["destination"]) for e in node[side]}


def test_lineage_graph_has_marquez_shape_and_direction_of_data_flow(loaded):
    body = loaded.ok("/api/v1/lineage", nodeId=world.ODD_ID, depth=2)
    nodes = {n["id"]: n for n in body["graph"]}
    assert set(nodes) == {world.ODD_ID, world.EXTRACT_ID, world.TRANSFORM_ID, world.SRC_ID, world.B_ONLY_ID}
    odd = nodes[world.ODD_ID]
    assert odd["type"] == "DATASET"
    assert odd["data"]["id"] == {"namespace": PG, "name": world.ODD}
    assert [f["name"] for f in odd["data"]["fields"]] == ["id", "total"]
    assert _edges(odd, "inEdges") == {(world.EXTRACT_ID, world.ODD_ID)}
    assert _edges(odd, "outEdges") == {(world.ODD_ID, world.TRANSFORM_ID)}
    assert nodes[world.EXTRACT_ID]["type"] == "JOB"
    assert nodes[world.EXTRACT_ID]["data"]["latestRun"]["state"] == "COMPLETED"
    assert (body["root"], body["direction"], body["isPartial"]) == (world.ODD_ID, "both", False)


def test_direction_limit_and_filters_extend_the_marquez_graph(loaded):
    up = loaded.ok("/api/v1/lineage", nodeId=world.ODD_ID, depth=20, direction="upstream")
    assert {n["id"] for n in up["graph"]} == {world.ODD_ID, world.EXTRACT_ID, world.SRC_ID}
    few = loaded.ok("/api/v1/lineage", nodeId=world.ODD_ID, depth=20, limit=2)
    assert len(few["graph"]) == 2 and few["isPartial"] is True
    datasets = loaded.ok("/api/v1/lineage", nodeId=world.ODD_ID, depth=20, type="dataset")
    assert {n["type"] for n in datasets["graph"]} == {"DATASET"}
    in_s3 = loaded.ok("/api/v1/lineage", nodeId=world.ODD_ID, depth=20, namespace=world.S3)
    assert {n["id"] for n in in_s3["graph"]} == {world.ODD_ID, world.SPARK_OUT_ID}


def test_as_of_a_time_before_an_edge_existed_leaves_it_out(loaded):
    before_transform = "2026-01-01T00:05:00Z"
    graph = loaded.ok("/api/v1/lineage", nodeId=world.ODD_ID, depth=20, asOf=before_transform)
    assert world.TRANSFORM_ID not in {n["id"] for n in graph["graph"]}
    assert graph["asOf"].startswith("2026-01-01T00:05:00")


def test_column_lineage_lists_fields_with_their_input_fields(loaded):
    body = loaded.ok("/api/v1/column-lineage", nodeId=world.ODD_ID, depth=5)
    nodes = {n["id"]: n for n in body["graph"]}
    total = nodes[f"datasetField:{PG}:{world.ODD}:total"]
    assert total["type"] == "DATASET_FIELD"
    assert total["data"]["fieldType"] == "NUMERIC"
    assert total["data"]["transformationType"] == "AGGREGATION"
    assert [(f["dataset"], f["field"]) for f in total["data"]["inputFields"]] == [(world.SRC, "amount")]
    assert _edges(total, "inEdges") == {(f"datasetField:{PG}:{world.SRC}:amount", total["id"])}
    one = loaded.ok("/api/v1/column-lineage", nodeId=f"datasetField:{PG}:{world.SRC}:id", withDownstream=True)
    assert {n["id"] for n in one["graph"]} == {
        f"datasetField:{PG}:{world.SRC}:id",
        f"datasetField:{PG}:{world.ODD}:id",
    }


def test_namespaces_and_a_namespace_with_slashes_and_colons(loaded):
    names = [n["name"] for n in loaded.ok("/api/v1/namespaces")["namespaces"]]
    assert names == ["airflow", PG, world.S3, "spark"]
    assert loaded.ok(NS)["name"] == PG
    page = loaded.ok("/api/v1/namespaces", limit=1, offset=1)
    assert [n["name"] for n in page["namespaces"]] == [PG] and page["totalCount"] == 4


def test_datasets_of_a_namespace_page_with_limit_and_offset(loaded):
    body = loaded.ok(f"{NS}/datasets", limit=2, offset=0)
    assert body["totalCount"] == 3
    assert [d["name"] for d in body["datasets"]] == [world.ODD, world.B_ONLY]
    assert [d["name"] for d in loaded.ok(f"{NS}/datasets", limit=2, offset=2)["datasets"]] == [world.SRC]


def test_a_dataset_named_with_slash_and_colon_and_its_versions(loaded):
    dataset = loaded.ok(ODD_PATH)
    assert dataset["id"] == {"namespace": PG, "name": world.ODD}
    assert dataset["physicalName"] == world.ODD and dataset["sourceName"] == PG
    assert [f["name"] for f in dataset["fields"]] == ["id", "total"]
    versions = loaded.ok(f"{ODD_PATH}/versions")
    assert versions["totalCount"] == 1
    version = versions["versions"][0]
    assert version["version"] == dataset["currentVersion"]
    assert version["createdByRun"]["jobVersion"]["name"] == "dag_a.extract"


def test_jobs_a_job_and_its_runs(loaded):
    jobs = loaded.ok("/api/v1/namespaces/airflow/jobs")
    assert [j["name"] for j in jobs["jobs"]] == ["dag_a", "dag_a.extract", "dag_b.transform"]
    job = loaded.ok("/api/v1/namespaces/airflow/jobs/dag_a.extract")
    assert job["inputs"] == [{"namespace": PG, "name": world.SRC}]
    assert job["outputs"] == [{"namespace": PG, "name": world.ODD}]
    assert job["type"] == "BATCH" and job["latestRun"]["state"] == "COMPLETED"
    runs = loaded.ok("/api/v1/namespaces/airflow/jobs/dag_a.extract/runs")
    assert runs["totalCount"] == 1
    run = runs["runs"][0]
    assert run["outputDatasetVersions"][0]["datasetVersionId"]["name"] == world.ODD
    assert run["durationMs"] == 60_000
    assert loaded.ok(f"/api/v1/jobs/runs/{run['id']}") == run


def test_search_finds_datasets_and_jobs_and_filters_by_kind(loaded):
    body = loaded.ok("/api/v1/search", q="b_only")
    assert body["results"] == [
        {
            "type": "DATASET",
            "name": world.B_ONLY,
            "updatedAt": body["results"][0]["updatedAt"],
            "namespace": PG,
            "nodeId": world.B_ONLY_ID,
        }
    ]
    jobs = loaded.ok("/api/v1/search", q="dag", filter="job")
    assert {r["nodeId"] for r in jobs["results"]} == {
        "job:airflow:dag_a",
        world.EXTRACT_ID,
        world.TRANSFORM_ID,
    }


def test_raw_events_page_newest_first_by_default(loaded):
    newest = loaded.ok("/api/v1/events/lineage", limit=2)
    assert newest["totalCount"] == 5
    assert [e["job"]["name"] for e in newest["events"]] == ["nightly", "dag_b.transform"]
    oldest = loaded.ok("/api/v1/events/lineage", limit=1, sortDirection="asc")
    assert oldest["events"][0]["job"]["name"] == "dag_a"
    window = loaded.ok("/api/v1/events/lineage", after="2026-01-01T00:01:30Z", before="2026-01-01T00:15:00Z")
    assert [e["eventType"] for e in window["events"]] == ["COMPLETE", "COMPLETE"]


def test_impact_export_lists_everything_downstream_as_json_and_csv(loaded):
    body = loaded.ok("/api/v1/impact", nodeId=world.SRC_ID)
    assert [(n["id"], n["depth"]) for n in body["nodes"]] == [
        (world.EXTRACT_ID, 1),
        (world.ODD_ID, 2),
        (world.TRANSFORM_ID, 3),
        (world.B_ONLY_ID, 4),
        (world.SPARK_ID, 5),
        (world.SPARK_OUT_ID, 6),
    ]
    response = loaded.get(
        "/api/v1/impact", params={"nodeId": world.SRC_ID, "format": "csv", "type": "dataset"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["namespace"], r["name"], r["depth"]) for r in rows] == [
        (PG, world.ODD, "2"),
        (PG, world.B_ONLY, "4"),
        (world.S3, "spark/out", "6"),
    ]


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/lineage", {"nodeId": "table:x"}, 400),
        ("/api/v1/lineage", {"nodeId": world.ODD_ID, "asOf": "not a time or run"}, 400),
        ("/api/v1/lineage", {"nodeId": world.ODD_ID, "depth": 101}, 422),
        ("/api/v1/lineage", {"nodeId": world.ODD_ID, "depth": "deep"}, 422),
        ("/api/v1/lineage", {"nodeId": world.ODD_ID, "direction": "sideways"}, 422),
        ("/api/v1/lineage", {}, 422),
        ("/api/v1/column-lineage", {"nodeId": world.EXTRACT_ID}, 400),
        ("/api/v1/namespaces", {"limit": 0}, 422),
        ("/api/v1/namespaces", {"offset": -1}, 422),
        ("/api/v1/jobs/runs/not-a-uuid", {}, 400),
        ("/api/v1/events/lineage", {"before": "0001-01-01T00:00:00+05:00"}, 422),
        ("/api/v1/search", {"q": "a\x00b"}, 400),
        ("/api/v1/lineage", {"nodeId": "dataset:a:b\x00"}, 400),
        (f"{NS}/datasets/a%00b", {}, 400),
    ],
)
def test_bad_query_arguments_are_clear_4xx_errors(loaded, path, params, status):
    response = loaded.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_an_unknown_node_is_404_with_suggestions(loaded):
    response = loaded.get("/api/v1/lineage", params={"nodeId": f"dataset:{PG}:public.sr"})
    assert response.status_code == 404
    assert response.json()["suggestions"] == [world.SRC_ID]
    assert loaded.get(f"{NS}/datasets/nope").status_code == 404
    assert loaded.get("/api/v1/namespaces/nope").status_code == 404
    assert loaded.get("/api/v1/jobs/runs/00000000-0000-0000-0000-000000000000").status_code == 404


def test_openapi_and_docs_are_served_by_the_app(api):
    spec = api.get("/openapi.json", user=None).json()
    assert {"/api/v1/lineage", "/api/v1/namespaces/{namespace}/datasets/{dataset}/versions"} <= set(
        spec["paths"]
    )
    docs = api.get("/docs", user=None)
    assert docs.status_code == 200 and "/lineage/openapi.json" in docs.text


def test_a_fresh_deployment_without_a_store_yet_answers_empty_lists(api):
    assert api.ok("/api/v1/namespaces") == {"namespaces": [], "totalCount": 0}
    assert api.get("/api/v1/lineage", params={"nodeId": world.ODD_ID}).status_code == 404

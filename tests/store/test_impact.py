"""The impact summary and the paged impact list, on SQLite and PostgreSQL, checked against what
``store.lineage`` and ``store.describe`` say of the same graph."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from airflow_lineage_provider.exceptions import InvalidQueryError, NodeNotFoundError
from airflow_lineage_provider.store.impact import owner_names
from airflow_lineage_provider.store.visibility import Scope
from tests.store.events import at, ds, new_run, run_event

W = "sqlite:///data/w.db"
RAW = f"dataset:{W}:raw"
ETL_ONLY = Scope("airflow", frozenset({"etl"}))


def _facet(**fields: Any) -> dict[str, Any]:
    return {"_producer": "p", "_schemaURL": "https://example.com/f.json", **fields}


def _owners(*names: str) -> dict[str, Any]:
    return _facet(owners=[{"name": n, "type": "team"} for n in names])


def _job_type(kind: str) -> dict[str, Any]:
    return _facet(processingType="BATCH", integration="AIRFLOW", jobType=kind)


def _task(dag: str, task: str, dag_run: str, minute: int, ins: list, outs: list, **job_facets: Any) -> dict:
    parent = _facet(run={"runId": dag_run}, job={"namespace": "airflow", "name": dag})
    return run_event(
        "COMPLETE",
        f"{dag}.{task}",
        new_run(),
        minute=minute,
        inputs=ins,
        outputs=outs,
        run_facets={"parent": parent},
        job_facets={"jobType": _job_type("TASK"), **job_facets},
    )


def _dag(dag: str, run_id: str, minute: int, *owners: str) -> dict:
    facets = {"jobType": _job_type("DAG"), "ownership": _owners(*owners)}
    return run_event("COMPLETE", dag, run_id, minute=minute, job_facets=facets)


def world(etl: str = "etl", ml: str = "ml") -> list[dict[str, Any]]:
    """raw -> etl.clean -> clean -> etl.report -> report -> ml.train -> model (MODEL), and
    clean -> spark_job (namespace spark) -> spark_out; ``etl`` and ``ml`` are DAG ids. DAG etl is owned
    by alice, its task etl.report by bob; DAG ml by carol, and so is the model; report by dana and eve
    as etl.report wrote it, then by mallory, as ml.tag (which reads nothing) wrote it last."""
    etl_run, ml_run = new_run(), new_run()
    model = ds("model", "s3://models", datasetType=_facet(datasetType="model"), ownership=_owners("carol"))
    return [
        _dag(etl, etl_run, 0, "alice"),
        _task(etl, "clean", etl_run, 1, [ds("raw", W)], [ds("clean", W)]),
        _task(etl, "report", etl_run, 2, [ds("clean", W)],
              [ds("report", W, ownership=_owners("eve", "dana"))], ownership=_owners("bob")),
        _dag(ml, ml_run, 3, "carol"),
        _task(ml, "train", ml_run, 4, [ds("report", W)], [model]),
        _task(ml, "tag", ml_run, 5, [], [ds("report", W, ownership=_owners("mallory"))]),
        run_event("COMPLETE", "spark_job", new_run(), minute=6, namespace="spark",
                  inputs=[ds("clean", W)], outputs=[ds("spark_out", "s3://lake")]),
    ]  # fmt: skip


@pytest.fixture
def built(store):
    store.record_many(world())
    return store


def _counts(summary: Any) -> dict[str, Any]:
    data = summary.to_dict()
    return {
        "types": {(e["kind"], e["type"]): e["count"] for e in data["byType"]},
        "namespaces": {e["namespace"]: e["count"] for e in data["byNamespace"]},
        "owners": {e["owner"]: e["count"] for e in data["byOwner"]},
        "dags": {e["dagId"]: e["jobs"] for e in data["dags"]},
    }


def _independent(store: Any, root: str, scope: Scope | None = None, **kw: Any) -> dict[str, Any]:
    """The same counts from the nodes of ``store.lineage`` and each one's ``describe`` (facets, parent)."""
    graph = store.lineage(root, "downstream", scope=scope, **kw)
    nodes = [n for n in graph.nodes if n.id != graph.root]
    types = Counter((n.type, n.data.get("type")) for n in nodes)
    namespaces = Counter(n.namespace for n in nodes)
    owners: Counter[str] = Counter()
    dags: Counter[str] = Counter()
    for n in nodes:
        found = store.describe(n.id)
        names = owner_names(found.get("facets"))
        if n.type == "job":
            dag = (
                n.name if n.data.get("type") == "DAG" else n.name.rsplit(".", 1)[0] if "." in n.name else None
            )
            if dag is not None:
                dags[dag] += 1
                if not names:
                    names = owner_names(store.describe(f"job:airflow:{dag}").get("facets"))
        owners.update(names)
    return {"types": dict(types), "namespaces": dict(namespaces), "owners": dict(owners), "dags": dict(dags)}


def test_summary_counts_everything_downstream_by_type_namespace_dag_and_owner(built) -> None:
    summary = built.impact_summary(RAW)
    assert summary.total == 8
    assert _counts(summary) == {
        "types": {("job", "TASK"): 3, ("dataset", None): 3, ("job", None): 1, ("dataset", "MODEL"): 1},
        "namespaces": {"airflow": 3, W: 2, "spark": 1, "s3://lake": 1, "s3://models": 1},
        "owners": {"alice": 1, "bob": 1, "carol": 2, "mallory": 1},  # etl.clean and ml.train: their DAG's
        "dags": {"etl": 2, "ml": 1},
    }
    assert summary.unowned == 3 and summary.jobs_without_dag == 1
    assert _counts(summary) == _independent(built, RAW)
    assert [d["dagId"] for d in summary.to_dict()["dags"]] == ["etl", "ml"]  # most jobs first


def test_a_restricted_reader_counts_only_what_they_see_and_nothing_hidden_leaks(built) -> None:
    summary = built.impact_summary(RAW, scope=ETL_ONLY)
    assert summary.total == 4
    assert _counts(summary) == {
        "types": {("job", "TASK"): 2, ("dataset", None): 2},
        "namespaces": {"airflow": 2, W: 2},
        "owners": {"alice": 1, "bob": 1, "dana": 1, "eve": 1},  # report as etl.report wrote it
        "dags": {"etl": 2},
    }
    assert summary.unowned == 1 and summary.jobs_without_dag == 0
    text = repr(summary.to_dict())
    for hidden in ("mallory", "carol", "ml", "spark", "model", "s3://"):
        assert hidden not in text
    assert _counts(summary)["types"] == _independent(built, RAW, ETL_ONLY)["types"]
    with pytest.raises(NodeNotFoundError):
        built.impact_summary(f"dataset:{W}:report", scope=Scope("airflow", frozenset({"other"})))


def test_as_of_counts_only_lineage_that_existed_then(built) -> None:
    summary = built.impact_summary(RAW, as_of=at(3))  # before ml.train and spark_job ran
    assert summary.total == 4 and summary.as_of is not None
    assert _counts(summary)["dags"] == {"etl": 2}
    assert _counts(summary)["types"] == _independent(built, RAW, as_of=at(3))["types"]


def test_depth_bounds_the_summary_and_bad_input_is_named(built) -> None:
    assert built.impact_summary(RAW, depth=2).total == 2  # etl.clean, clean
    assert built.impact_summary(RAW, depth=0).total == 0
    with pytest.raises(NodeNotFoundError, match="raww"):
        built.impact_summary(f"dataset:{W}:raww")
    for depth in (-1, 101, "3"):
        with pytest.raises(InvalidQueryError, match="depth must be an integer"):
            built.impact_summary(RAW, depth=depth)
    with pytest.raises(InvalidQueryError, match="offset"):
        built.impact_page(RAW, offset=-1)
    with pytest.raises(InvalidQueryError, match="limit"):
        built.impact_page(RAW, limit=0)


def test_pages_cover_the_whole_downstream_set_nearest_first(built) -> None:
    seen, offset = [], 0
    while True:
        page = built.impact_page(RAW, offset=offset, limit=3)
        assert page.total == 8
        if not page.nodes:
            break
        seen.extend(page.nodes)
        offset += 3
    graph = built.lineage(RAW, "downstream")
    assert len(seen) == 8 and {n.id for n in seen} == graph.node_ids() - {RAW}
    depths = {n.id: n.depth for n in graph.nodes}
    assert [n.depth for n in seen] == sorted(n.depth for n in seen) == sorted(depths[n.id] for n in seen)
    restricted = built.impact_page(RAW, limit=100, scope=ETL_ONLY)
    assert restricted.total == 4 and {n.name for n in restricted.nodes} == {
        "etl.clean",
        "clean",
        "etl.report",
        "report",
    }


def test_random_graphs_agree_with_lineage(store) -> None:
    rng = random.Random(15)
    datasets = [f"d{i}" for i in range(25)]
    events = [_dag(f"dag{d}", run, 0, f"team{d}") for d, run in ((d, new_run()) for d in range(3))]
    dag_runs = {d: new_run() for d in range(3)}
    for j in range(30):
        ins = [ds(n, W if i % 2 else "s3://b") for i, n in enumerate(rng.sample(datasets, 2))]
        outs = [ds(n, W if i % 2 else "s3://b") for i, n in enumerate(rng.sample(datasets, 2))]
        dag = j % 3
        owners = {"ownership": _owners(f"own{j % 4}")} if j % 5 == 0 else {}
        events.append(_task(f"dag{dag}", f"t{j}", dag_runs[dag], j + 1, ins, outs, **owners))
    store.record_many(events)
    for root in ("dataset:s3://b:d0", f"dataset:{W}:d1", "job:airflow:dag1.t4"):
        try:
            summary = store.impact_summary(root)
        except NodeNotFoundError:
            continue
        assert _counts(summary) == _independent(store, root), root
        assert summary.total == len(store.lineage(root, "downstream").nodes) - 1


def test_a_run_counts_what_it_wrote_and_beyond(built) -> None:
    run = f"run:{built.describe('job:airflow:etl.clean')['latestRuns'][0]['runId']}"
    summary = built.impact_summary(run)
    assert summary.total == 7  # clean, etl.report, report, ml.train, model, spark_job, spark_out
    assert _counts(summary)["types"] == _independent(built, run)["types"]
    assert built.impact_summary(run, scope=ETL_ONLY).total == 3
    with pytest.raises(NodeNotFoundError):
        built.impact_summary(run, scope=Scope("airflow", frozenset({"ml"})))

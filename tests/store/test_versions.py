from __future__ import annotations

from tests.store.events import ds, new_run, run_event

TABLE = "dataset:sqlite:///data/w.db:orders"


def test_each_completed_write_makes_a_version_and_readers_record_the_version_they_read(store):
    writer_1, reader, writer_2 = new_run(), new_run(), new_run()
    store.record(run_event("COMPLETE", "load", writer_1, minute=0, outputs=[ds("orders")]))
    store.record(run_event("COMPLETE", "report", reader, minute=5, inputs=[ds("orders")], outputs=[ds("r")]))
    store.record(run_event("COMPLETE", "load", writer_2, minute=10, outputs=[ds("orders")]))
    details = store.describe(TABLE)
    versions = [v["version"] for v in details["versions"]]
    assert len(versions) == 2
    assert details["currentVersion"] == versions[0]
    read = store.describe(f"run:{reader}")["inputs"][0]
    assert read["version"] == versions[1]  # the version current when it read, not the newest


def test_an_explicit_dataset_version_facet_is_used(store):
    version = {"datasetVersion": "v42"}
    store.record(run_event("COMPLETE", "load", new_run(), outputs=[ds("orders", version=version)]))
    assert store.describe(TABLE)["currentVersion"] == "v42"


def test_start_with_outputs_makes_no_version_until_complete(store):
    run_id = new_run()
    store.record(run_event("START", "load", run_id, outputs=[ds("orders")]))
    assert store.describe(TABLE)["versions"] == []
    store.record(run_event("COMPLETE", "load", run_id, minute=1, outputs=[ds("orders")]))
    assert len(store.describe(TABLE)["versions"]) == 1
    assert store.describe(f"run:{run_id}")["outputs"][0]["version"] is not None


def test_column_lineage_is_stored_per_output_field(store):
    facet = {
        "fields": {
            "total": {
                "inputFields": [
                    {
                        "namespace": "sqlite:///data/w.db",
                        "name": "raw",
                        "field": "amount",
                        "transformations": [{"type": "DIRECT", "subtype": "AGGREGATION"}],
                    },
                    {"namespace": "sqlite:///data/w.db", "name": "raw", "field": "qty"},
                ]
            }
        }
    }
    store.record(
        run_event(
            "COMPLETE", "agg", new_run(), inputs=[ds("raw")], outputs=[ds("orders", columnLineage=facet)]
        )
    )
    rows = store.column_lineage(TABLE)
    assert [r["field"] for r in rows] == ["total"]
    assert {(f["name"], f["field"]) for f in rows[0]["inputFields"]} == {("raw", "amount"), ("raw", "qty")}
    assert store.describe(TABLE)["columnLineage"] == rows


def test_parent_run_facet_links_task_runs_to_the_dag_run(store):
    dag_run, task_run = new_run(), new_run()
    parent = {"run": {"runId": dag_run}, "job": {"namespace": "airflow", "name": "etl"}}
    store.record(run_event("START", "etl.load", task_run, run_facets={"parent": parent}))
    assert store.describe(f"run:{task_run}")["parentRunId"] == dag_run
    assert store.describe("job:airflow:etl.load")["parentJob"] == "job:airflow:etl"
    store.record(run_event("COMPLETE", "etl", dag_run, minute=3))
    assert store.describe(f"run:{dag_run}")["state"] == "COMPLETED"


def test_the_version_a_run_writes_is_the_uuid5_of_its_run_and_dataset():
    import uuid

    from airflow_lineage_provider.store.writes import uuid5_text

    for run_id in (str(uuid.uuid4()), str(uuid.uuid4()).upper(), "00000000-0000-0000-0000-000000000000"):
        for name in ("ns:table", "postgres://h:5432:schema.é名", ""):
            assert uuid5_text(run_id, name) == str(uuid.uuid5(uuid.UUID(run_id), name))

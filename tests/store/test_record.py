from __future__ import annotations

import json
import math

import pytest
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState

from airflow_lineage_provider.core.events import parse_event
from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.exceptions import InvalidEventError
from tests.store.events import PRODUCER, at, ds, etl_events, new_run, run_event

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:openlineage")


def test_the_same_event_twice_is_stored_once(store):
    event = run_event("START", "etl.clean", new_run(), inputs=[ds("raw_a")])
    assert store.record(event) is True
    assert store.record(json.loads(json.dumps(event))) is False
    assert len(list(store.events())) == 1


def test_record_many_counts_duplicates_within_and_across_calls(store):
    events = etl_events()
    first = store.record_many(events + events[:2])
    assert (first.stored, first.duplicates) == (6, 2)
    again = store.record_many(events)
    assert (again.stored, again.duplicates) == (0, 6)
    assert len(list(store.events())) == 6


def test_complete_before_start_yields_one_completed_run(store):
    run_id = new_run()
    store.record(run_event("COMPLETE", "job.a", run_id, minute=5, outputs=[ds("out")]))
    store.record(run_event("START", "job.a", run_id, minute=1, inputs=[ds("in")]))
    run = store.describe(f"run:{run_id}")
    assert run["state"] == "COMPLETED"
    assert run["startedAt"] == "2026-01-01T00:01:00Z"
    assert run["endedAt"] == "2026-01-01T00:05:00Z"
    assert run["durationMs"] == 4 * 60 * 1000
    assert [i["id"] for i in run["inputs"]] == ["dataset:sqlite:///data/w.db:in"]
    assert [o["id"] for o in run["outputs"]] == ["dataset:sqlite:///data/w.db:out"]
    job = store.describe("job:airflow:job.a")
    assert [r["runId"] for r in job["latestRuns"]] == [run_id]


def test_later_facets_win_whatever_the_arrival_order(store):
    run_id = new_run()
    late = run_event("COMPLETE", "job.a", run_id, minute=5, run_facets={"x": {"v": "complete"}})
    early = run_event("START", "job.a", run_id, minute=1, run_facets={"x": {"v": "start"}, "y": {"v": 1}})
    store.record(late)
    store.record(early)
    facets = store.describe(f"run:{run_id}")["facets"]
    assert facets["x"] == {"v": "complete"}
    assert facets["y"] == {"v": 1}


def test_failed_run_keeps_failed_state_and_error_facet(store):
    run_id = new_run()
    error = {"message": "boom", "programmingLanguage": "python", "stackTrace": "Traceback ..."}
    store.record(run_event("START", "job.f", run_id, minute=0))
    store.record(run_event("FAIL", "job.f", run_id, minute=1, run_facets={"errorMessage": error}))
    run = store.describe(f"run:{run_id}")
    assert run["state"] == "FAILED"
    assert run["facets"]["errorMessage"]["message"] == "boom"


def test_openlineage_python_event_objects_are_accepted(store):
    run_id = new_run()
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=at(3),
        run=Run(runId=run_id),
        job=Job(namespace="airflow", name="py.job"),
        producer=PRODUCER,
        inputs=[InputDataset(namespace="file", name="/data/in.csv")],
        outputs=[OutputDataset(namespace="file", name="/data/out.csv")],
    )
    assert store.record(event) is True
    graph = store.lineage("dataset:file:/data/out.csv", "upstream", 2)
    assert graph.node_ids() == {
        "dataset:file:/data/out.csv",
        "job:airflow:py.job",
        "dataset:file:/data/in.csv",
    }


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: e["run"].update(runId="not-a-uuid"), "run.runId"),
        (lambda e: e["run"].pop("runId"), "run.runId"),
        (lambda e: e.update(eventTime="yesterday"), "eventTime"),
        (lambda e: e["job"].update(name=""), "job.name"),
        (lambda e: e.update(eventType="DONE"), "eventType"),
        (lambda e: e["inputs"].append({"namespace": "x"}), "inputs[1].name"),
        (lambda e: e.pop("producer"), "producer"),
        (lambda e: e["run"]["facets"].update(m={"score": math.nan}), "$.run.facets.m.score"),
        (lambda e: e["job"].update(name="a\x00b"), "$.job.name"),
    ],
)
def test_a_malformed_event_is_rejected_naming_the_field(store, mutate, field):
    event = run_event("START", "job.bad", new_run(), inputs=[ds("raw_a")])
    mutate(event)
    with pytest.raises(InvalidEventError) as info:
        store.record(event)
    assert info.value.field == field
    assert field in str(info.value)


def test_a_batch_with_one_bad_event_stores_nothing(store):
    events = etl_events()
    store.record(events[0])
    bad = dict(events[3], eventTime="not a time")
    with pytest.raises(InvalidEventError) as info:
        store.record_many([*events[1:3], bad, *events[4:]])
    assert info.value.index == 2 and info.value.field == "eventTime"
    assert len(list(store.events())) == 1
    assert [n.id for n in store.search("report")] == []


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"eventTime": "2026-01-01T00:00:00Z"}'])
def test_text_that_is_not_an_event_is_rejected(store, text):
    with pytest.raises(InvalidEventError):
        store.record(text)


def test_dataset_and_job_events_are_stored(store):
    schema = {"fields": [{"name": "id", "type": "INTEGER"}, {"name": "amount", "type": "REAL"}]}
    store.record(
        {
            "eventTime": at(0),
            "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
            "dataset": {
                "namespace": "postgres://db:5432",
                "name": "shop.public.orders",
                "facets": {"schema": schema},
            },
        }
    )
    store.record(
        {
            "eventTime": at(1),
            "producer": PRODUCER,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
            "job": {"namespace": "dbt", "name": "orders_model"},
            "inputs": [{"namespace": "postgres://db:5432", "name": "shop.public.orders"}],
            "outputs": [{"namespace": "postgres://db:5432", "name": "shop.public.orders_daily"}],
        }
    )
    details = store.describe("dataset:postgres://db:5432:shop.public.orders")
    assert [f["name"] for f in details["fields"]] == ["id", "amount"]
    assert details["consumers"] == ["job:dbt:orders_model"]
    graph = store.lineage("dataset:postgres://db:5432:shop.public.orders_daily", "upstream", 2)
    assert "dataset:postgres://db:5432:shop.public.orders" in graph.node_ids()


def test_record_validated_stores_parsed_events_as_record_many_does(store, tmp_path):
    from airflow_lineage_provider import LineageStore
    from airflow_lineage_provider.core.events import parse_event

    events = etl_events()
    first = store.record_validated([parse_event(e) for e in events + events[:1]])
    assert (first.stored, first.duplicates) == (6, 1)
    assert store.record_validated([parse_event(e) for e in events]).stored == 0
    reference = LineageStore.from_url(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        reference.record_many(events)
        assert list(store.events()) == list(reference.events())
        assert store.lineage("job:airflow:etl.clean") == reference.lineage("job:airflow:etl.clean")
    finally:
        reference.close()


def test_an_outbox_drained_into_the_store_stores_every_event_it_validated_while_reading(store, tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    events = etl_events()
    for event in events:
        outbox.put(parse_event(event).key, event)

    result = outbox.drain(store.record_many)

    assert (result.delivered, result.dead) == (len(events), 0)
    assert list(store.events()) == events
    assert store.record_many([parse_event(e) for e in events]).duplicates == len(events)

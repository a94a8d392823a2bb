"""Ingest reads events as leniently as Marquez, records what it read so, and still rejects the unusable."""

from __future__ import annotations

import math

import pytest

from airflow_lineage_provider.exceptions import InvalidEventError
from tests.store.events import ds, new_run, run_event

VERSIONS = ("1-0-0", "1-0-5", "2-0-0", "2-0-2")
FORMS = ("definitions", "$defs")


def _url(version: str, form: str, name: str) -> str:
    return f"https://openlineage.io/spec/{version}/OpenLineage.json#/{form}/{name}"


def _job_event(url: str | None, **extra: object) -> dict:
    event = run_event(
        "COMPLETE", "lenient.job_event", new_run(), inputs=[ds("je_in")], outputs=[ds("je_out")]
    )
    del event["run"], event["eventType"]
    event.update(extra)
    if url is None:
        del event["schemaURL"]
    else:
        event["schemaURL"] = url
    return event


def _dataset_event(url: str) -> dict:
    event = run_event("COMPLETE", "unused", new_run())
    for key in ("run", "job", "eventType", "inputs", "outputs"):
        del event[key]
    event.update(schemaURL=url, dataset=ds("de_table", documentation={"description": "d"}))
    return event


def test_a_run_event_without_schema_url_is_stored_as_sent_and_the_fill_recorded(store):
    run_id = new_run()
    event = run_event("COMPLETE", "lenient.no_url", run_id, inputs=[ds("a")], outputs=[ds("b")])
    del event["schemaURL"]

    result = store.record_many([event])

    assert result.stored == 1
    assert [(n["index"], n["field"]) for n in result.normalised] == [(0, "schemaURL")]
    assert list(store.events()) == [event]  # as sent: nothing filled in
    notes = store.describe(f"run:{run_id}")["normalised"]
    assert [(n["eventType"], n["field"]) for n in notes] == [("COMPLETE", "schemaURL")]
    assert "#/$defs/RunEvent" in notes[0]["note"]
    assert store.describe("job:airflow:lenient.no_url")["normalised"] == notes


def test_a_time_without_a_zone_is_read_as_utc(store):
    run_id = new_run()
    event = run_event("START", "lenient.naive", run_id)
    event["eventTime"] = "2026-03-04T05:06:07.123"

    result = store.record_many([event])

    assert [n["field"] for n in result.normalised] == ["eventTime"]
    assert store.describe(f"run:{run_id}")["startedAt"].startswith("2026-03-04T05:06:07.123")
    assert list(store.events()) == [event]


def test_a_strict_event_records_no_normalisation(store):
    run_id = new_run()
    result = store.record_many([run_event("START", "lenient.strict", run_id)])
    assert result.normalised == ()
    assert store.describe(f"run:{run_id}")["normalised"] == []


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("form", FORMS)
def test_every_schema_url_form_names_the_event_type(store, version, form):
    run_id = new_run()
    run = run_event("COMPLETE", f"lenient.run_{version}", run_id, outputs=[ds(f"r_{version}_{form}")])
    run["schemaURL"] = _url(version, form, "RunEvent")
    # a JobEvent that also carries an eventType (as some producers send): its schemaURL decides
    job = _job_event(_url(version, form, "JobEvent"), eventType="COMPLETE")
    dataset = _dataset_event(_url(version, form, "DatasetEvent"))

    result = store.record_many([run, job, dataset])

    assert (result.stored, result.normalised) == (3, ())
    assert store.describe(f"run:{run_id}")["state"] == "COMPLETED"
    job_node = store.describe("job:airflow:lenient.job_event")
    assert (job_node["inputs"], job_node["outputs"]) == (
        ["dataset:sqlite:///data/w.db:je_in"],
        ["dataset:sqlite:///data/w.db:je_out"],
    )
    assert store.describe("dataset:sqlite:///data/w.db:de_table")["facets"]["documentation"]


def test_job_and_dataset_events_without_schema_url_are_typed_by_their_shape(store):
    dataset = _dataset_event("x")
    del dataset["schemaURL"]
    result = store.record_many([_job_event(None), dataset])
    assert result.stored == 2
    assert [n["note"].split("#/$defs/")[1].split(" ")[0] for n in result.normalised] == [
        "JobEvent",
        "DatasetEvent",
    ]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda e: [e.pop(k) for k in ("run", "job", "eventType", "schemaURL")], "job"),
        (lambda e: e.pop("job"), "job"),
        (lambda e: e["run"].update(runId="run-1"), "run.runId"),
        (lambda e: e.update(schemaURL=_url("1-0-0", "definitions", "RunEvent"), run=None), "run"),
        (lambda e: e.update(schemaURL=_url("2-0-2", "$defs", "DatasetEvent")), "dataset"),
        (lambda e: e["run"].update(facets={"m": {"v": math.nan}}), "$.run.facets.m.v"),
    ],
    ids=[
        "no-job-or-dataset",
        "run-without-job",
        "run-id-not-uuid",
        "named-run-without-run",
        "named-dataset",
        "nan",
    ],
)
def test_unusable_events_are_still_rejected_naming_the_field(store, mutate, field):
    event = run_event("START", "lenient.bad", new_run())
    mutate(event)
    with pytest.raises(InvalidEventError) as info:
        store.record_many([event])
    assert info.value.field == field


def test_text_that_does_not_parse_names_the_whole_event(store):
    with pytest.raises(InvalidEventError) as info:
        store.record_many(['{"eventType": "START",'])
    assert info.value.field == "$"

"""Merging what extraction sources found: one dataset per (namespace, name), earlier sources win."""

from __future__ import annotations

from openlineage.client.event_v2 import Dataset
from openlineage.client.facet_v2 import extraction_error_run, schema_dataset
from openlineage.client.serde import Serde

from airflow_lineage_provider.capture.boundary import never_raise
from airflow_lineage_provider.capture.lineage import DatasetEntry, Lineage, entry


def test_a_dataset_found_twice_is_one_dataset_with_merged_facets() -> None:
    lineage = Lineage()
    lineage.add_outputs([DatasetEntry("ns", "t", {"schema": "first", "docs": "only-first"})])
    lineage.add_outputs([DatasetEntry("ns", "t", {"schema": "second", "columnLineage": "only-second"})])

    (merged,) = lineage.output_datasets()

    assert merged["facets"] == {"schema": "first", "docs": "only-first", "columnLineage": "only-second"}


def test_inputs_and_outputs_are_kept_apart() -> None:
    lineage = Lineage()
    lineage.add_inputs([DatasetEntry("ns", "t")])
    lineage.add_outputs([DatasetEntry("ns", "t"), None])

    assert [d["name"] for d in lineage.input_datasets()] == ["t"]
    assert [d["name"] for d in lineage.output_datasets()] == ["t"]


def test_earlier_run_and_job_facets_win() -> None:
    lineage = Lineage()
    lineage.add_run_facets({"a": 1})
    lineage.add_run_facets({"a": 2, "b": 2})
    lineage.add_job_facets(None)

    assert lineage.run_facets == {"a": 1, "b": 2}
    assert lineage.job_facets == {}


def test_openlineage_datasets_become_entries_with_json_facets_and_nameless_ones_are_dropped() -> None:
    schema = schema_dataset.SchemaDatasetFacet(fields=[])
    found = entry(Dataset(namespace="s3://b", name="k", facets={"schema": schema}))

    assert found == DatasetEntry("s3://b", "k", {"schema": Serde.to_dict(schema)})
    assert entry(Dataset(namespace="", name="k")) is None
    assert entry(object()) is None


def test_errors_become_an_extraction_error_facet_counting_every_attempt() -> None:
    lineage = Lineage(attempted=3)
    with never_raise("step", on_error=lineage.failed("step two", 1)):
        raise KeyError("missing")

    facet = lineage.all_run_facets()["extractionError"]

    assert (facet["totalTasks"], facet["failedTasks"]) == (3, 1)
    assert facet["errors"][0]["errorMessage"] == "KeyError: 'missing'"
    assert facet["errors"][0]["task"] == "step two"
    assert facet["errors"][0]["taskNumber"] == 1
    assert "KeyError" in facet["errors"][0]["stackTrace"]


def test_an_extraction_error_an_operator_reported_is_kept() -> None:
    theirs = extraction_error_run.ExtractionErrorRunFacet(
        totalTasks=2, failedTasks=1, errors=[extraction_error_run.Error(errorMessage="theirs")]
    )
    lineage = Lineage(attempted=1)
    lineage.add_run_facets({"extractionError": theirs})  # as an operator's method returns it
    lineage.failed("ours")(ValueError("ours"))

    facet = lineage.all_run_facets()["extractionError"]

    assert [e["errorMessage"] for e in facet["errors"]] == ["theirs", "ValueError: ours"]
    assert (facet["totalTasks"], facet["failedTasks"]) == (3, 2)


def test_without_errors_there_is_no_extraction_error_facet() -> None:
    assert "extractionError" not in Lineage(attempted=4).all_run_facets()


def test_a_dataset_name_with_a_nul_is_repaired_and_the_rest_is_kept() -> None:
    lineage = Lineage()
    lineage.add_outputs([DatasetEntry("file", "/data/a\x00b.csv"), DatasetEntry("file", "/data/ok.csv")])

    assert [d["name"] for d in lineage.output_datasets()] == ["/data/a%00b.csv", "/data/ok.csv"]
    (error,) = lineage.all_run_facets()["extractionError"]["errors"]
    assert "/data/a%00b.csv" in error["errorMessage"] and "NUL" in error["errorMessage"]

"""Facets we build as plain dicts: the same dicts openlineage-python's classes serialise to, standard
ones valid against the spec, ours against the schema shipped in the package."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import resources
from typing import Any

import jsonschema
import pytest
from openlineage.client import facet_v2 as ol
from openlineage.client.serde import Serde

from airflow_lineage_provider.capture import facets, fingerprints, mlfacets
from tests.spec import validate_against

P = facets.PRODUCER
START = datetime(2026, 1, 1, tzinfo=timezone.utc)
DAG_RUN = "01234567-89ab-4def-8123-456789abcdef"


def _parent() -> Any:
    run, job = ol.parent_run.Run(runId=DAG_RUN), ol.parent_run.Job(namespace="airflow", name="dag")
    root = ol.parent_run.Root(
        run=ol.parent_run.RootRun(runId=DAG_RUN), job=ol.parent_run.RootJob(namespace="airflow", name="dag")
    )
    return ol.parent_run.ParentRunFacet(run=run, job=job, root=root, producer=P)


def _column_lineage() -> Any:
    field = ol.column_lineage_dataset.InputField(
        namespace="n",
        name="t",
        field="x",
        transformations=[ol.column_lineage_dataset.Transformation(type="DIRECT")],
    )
    fields = {"a": ol.column_lineage_dataset.Fields(inputFields=[field])}
    return ol.column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, producer=P)


def _schema() -> Any:
    fields = [
        ol.schema_dataset.SchemaDatasetFacetFields(name="id", type="INTEGER"),
        ol.schema_dataset.SchemaDatasetFacetFields(name="note"),
    ]
    return ol.schema_dataset.SchemaDatasetFacet(fields=fields, producer=P)


# (what we build, what openlineage-python builds for the same facet)
SAME: list[tuple[Callable[[], dict[str, Any]], Callable[[], Any]]] = [
    (
        facets.processing_engine,
        lambda: ol.processing_engine_run.ProcessingEngineRunFacet(
            version=facets.airflow_version(),
            name="Airflow",
            openlineageAdapterVersion=facets.__version__,
            producer=P,
        ),
    ),
    (
        lambda: facets.nominal_time(START, None),
        lambda: ol.nominal_time_run.NominalTimeRunFacet(nominalStartTime=START.isoformat(), producer=P),
    ),
    (
        lambda: facets.nominal_time(START, START),
        lambda: ol.nominal_time_run.NominalTimeRunFacet(
            nominalStartTime=START.isoformat(), nominalEndTime=START.isoformat(), producer=P
        ),
    ),
    (lambda: facets.parent("airflow", "dag", DAG_RUN), _parent),
    (
        lambda: facets.job_type("TASK"),
        lambda: ol.job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="AIRFLOW", jobType="TASK", producer=P
        ),
    ),
    (
        lambda: facets.ownership(("alice", "team-a")),
        lambda: ol.ownership_job.OwnershipJobFacet(
            owners=[ol.ownership_job.Owner(name="alice"), ol.ownership_job.Owner(name="team-a")], producer=P
        ),
    ),
    (
        lambda: facets.error_message("Executor reported failure"),
        lambda: ol.error_message_run.ErrorMessageRunFacet(
            message="Executor reported failure", programmingLanguage="python", producer=P
        ),
    ),
    (
        lambda: facets.extraction_error(2, [facets.error("bad", "sql", 1)]),
        lambda: ol.extraction_error_run.ExtractionErrorRunFacet(
            totalTasks=2,
            failedTasks=1,
            errors=[ol.extraction_error_run.Error(errorMessage="bad", task="sql", taskNumber=1)],
            producer=P,
        ),
    ),
    (
        lambda: facets.sql("SELECT 1", "sqlite"),
        lambda: ol.sql_job.SQLJobFacet(query="SELECT 1", dialect="sqlite", producer=P),
    ),
    (lambda: facets.sql("SELECT 1", None), lambda: ol.sql_job.SQLJobFacet(query="SELECT 1", producer=P)),
    (
        lambda: facets.column_lineage(
            {
                "a": {
                    "inputFields": [
                        {"namespace": "n", "name": "t", "field": "x", "transformations": [{"type": "DIRECT"}]}
                    ]
                }
            }
        ),
        _column_lineage,
    ),
    (
        lambda: facets.output_statistics(3),
        lambda: ol.output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
            rowCount=3, producer=P
        ),
    ),
    (lambda: facets.schema([("id", "INTEGER"), ("note", None)]), _schema),
    (
        lambda: facets.dataset_type("MODEL"),
        lambda: ol.dataset_type_dataset.DatasetTypeDatasetFacet(datasetType="MODEL", producer=P),
    ),
    (
        lambda: facets.dataset_version("7"),
        lambda: ol.dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="7", producer=P),
    ),
]


@pytest.mark.parametrize(("ours", "theirs"), SAME, ids=lambda f: "")
def test_each_facet_is_the_dict_openlineage_python_serialises(
    ours: Callable[[], dict[str, Any]], theirs: Callable[[], Any]
) -> None:
    built, expected = ours(), Serde.to_dict(theirs())

    assert built == expected
    validate_against(built, str(built["_schemaURL"]))


def test_the_run_event_schema_is_the_one_openlineage_python_names() -> None:
    from openlineage.client.event_v2 import RunEvent

    assert facets.RUN_EVENT_SCHEMA == RunEvent._get_schema()


def test_our_task_facet_schema_url_points_at_the_schema_file_in_the_package() -> None:
    facet = facets.task_facet("d", "t", "r", 1, -1, None, None)
    url, _, pointer = str(facet["_schemaURL"]).partition("#")
    shipped = json.loads(
        resources.files("airflow_lineage_provider")
        .joinpath("schemas/AirflowLineageTaskRunFacet.json")
        .read_text()
    )

    assert shipped["$id"] == url
    assert pointer == "/$defs/AirflowLineageTaskRunFacet"
    assert url.startswith(facets.SCHEMA_BASE)
    assert "operator" not in facet and "hostname" not in facet  # None fields are left out


def test_our_task_facet_validates_and_its_schema_rejects_a_missing_field() -> None:
    facet = facets.task_facet("d", "t", "r", 2, 3, "x.Op", "host")
    validate_against(facet, str(facet["_schemaURL"]))

    del facet["try_number"]
    with pytest.raises(jsonschema.ValidationError, match="try_number"):
        validate_against(facet, str(facet["_schemaURL"]))


def test_our_ml_and_fingerprint_facets_validate_against_their_schemas() -> None:
    built = [
        mlfacets.reproducibility({"dagFile": "/d.py"}, {"python": "3.11"}, {"cpuCount": 2}, {"k": 1}, []),
        mlfacets.model("churn", "3", "sklearn", {"C": 1.0}, {"team": "ml"}),
        mlfacets.model(None, None, None, {}, {}),
        mlfacets.metrics({"auc": 0.9}, {"namespace": "file", "name": "/m.pkl"}, None),
        mlfacets.read_input("train", "SELECT 1"),
        fingerprints.facet(
            {"algorithm": "xxh3_128", "digest": "ab12", "size": 3, "mtime": START.isoformat()}
        ),
        fingerprints.facet({"algorithm": "xxh3_128", "digest": "ab12", "size": 9, "sampled": True}),
        fingerprints.facet({"algorithm": "rowcount", "digest": "3", "rows": 3, "approximate": True}),
    ]
    for facet in built:
        assert facet["_producer"] == P
        validate_against(facet, str(facet["_schemaURL"]))


def test_error_message_of_an_exception_has_type_message_and_traceback() -> None:
    try:
        raise ValueError("bad row")
    except ValueError as exc:
        facet = facets.error_message(exc)

    assert facet["message"] == "ValueError: bad row"
    assert facet["programmingLanguage"] == "python"
    assert 'raise ValueError("bad row")' in facet["stackTrace"]


def test_error_message_of_a_string_has_no_traceback() -> None:
    facet = facets.error_message("Executor reported failure")

    assert facet["message"] == "Executor reported failure" and "stackTrace" not in facet


def test_owners_are_airflows_comma_separated_owner_names_stripped_each_once_and_sorted() -> None:
    assert facets.owners("team-a") == ("team-a",)
    assert facets.owners(" bob, alice ,, bob,") == ("alice", "bob")
    assert facets.owners("") == ()
    assert facets.owners(None) == ()

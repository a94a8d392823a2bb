"""Facets we build: standard ones valid against the spec, ours against the schema shipped in the package."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from importlib import resources

import jsonschema
import pytest
from openlineage.client.serde import Serde

from airflow_lineage_provider.capture import facets
from tests.spec import validate_against


def as_json(facet: object) -> dict[str, object]:
    return Serde.to_dict(facet)


def test_our_task_facet_schema_url_points_at_the_schema_file_in_the_package() -> None:
    facet = facets.AirflowLineageTaskRunFacet(dag_id="d", task_id="t", run_id="r", try_number=1, map_index=-1)
    url, _, pointer = as_json(facet)["_schemaURL"].partition("#")  # type: ignore[union-attr]
    shipped = json.loads(
        resources.files("airflow_lineage_provider")
        .joinpath("schemas/AirflowLineageTaskRunFacet.json")
        .read_text()
    )

    assert shipped["$id"] == url
    assert pointer == "/$defs/AirflowLineageTaskRunFacet"
    assert url.startswith(facets.SCHEMA_BASE)


def test_our_task_facet_validates_and_its_schema_rejects_a_missing_field() -> None:
    facet = as_json(
        facets.AirflowLineageTaskRunFacet(
            dag_id="d", task_id="t", run_id="r", try_number=2, map_index=3, producer=facets.PRODUCER
        )
    )
    validate_against(facet, str(facet["_schemaURL"]))

    del facet["try_number"]
    with pytest.raises(jsonschema.ValidationError, match="try_number"):
        validate_against(facet, str(facet["_schemaURL"]))


def test_error_message_of_an_exception_has_type_message_and_traceback() -> None:
    try:
        raise ValueError("bad row")
    except ValueError as exc:
        facet = facets.error_message(exc)

    assert facet.message == "ValueError: bad row"
    assert facet.programmingLanguage == "python"
    assert facet.stackTrace is not None and 'raise ValueError("bad row")' in facet.stackTrace


def test_error_message_of_a_string_has_no_traceback() -> None:
    facet = facets.error_message("Executor reported failure")

    assert (facet.message, facet.stackTrace) == ("Executor reported failure", None)


def test_standard_facets_carry_our_producer_and_validate() -> None:
    built = [
        facets.processing_engine(),
        facets.nominal_time(datetime(2026, 1, 1, tzinfo=timezone.utc), None),
        facets.parent("airflow", "dag", "01234567-89ab-4def-8123-456789abcdef"),
        facets.job_type("TASK"),
        facets.extraction_error(1, []),
    ]
    for facet in built:
        data = as_json(facet)
        assert data["_producer"] == facets.PRODUCER
        validate_against(data, str(data["_schemaURL"]))

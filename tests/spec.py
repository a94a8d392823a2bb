"""Validate emitted events against the OpenLineage JSON schemas, every facet against its own schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from tests.conftest import SPEC_DIR
from tests.store.events import ds, new_run, run_event

OUR_SCHEMAS = Path(__file__).resolve().parents[1] / "airflow_lineage_provider" / "schemas"
OPENLINEAGE = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
RUN_EVENT = OPENLINEAGE + "#/$defs/RunEvent"


def _registry() -> Registry:  # type: ignore[type-arg]
    files = [SPEC_DIR / "OpenLineage.json", *sorted((SPEC_DIR / "facets").glob("*.json"))]
    files += sorted(OUR_SCHEMAS.glob("*.json"))
    resources = []
    for path in files:
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from (("run." + k, v) for k, v in (event["run"].get("facets") or {}).items())
    yield from (("job." + k, v) for k, v in (event["job"].get("facets") or {}).items())
    for side, io_key in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for dataset in event.get(side) or []:
            for key in ("facets", io_key):
                for name, facet in (dataset.get(key) or {}).items():
                    yield f"{side}[{dataset['name']}].{name}", facet


def validate_against(instance: Any, ref: str) -> None:
    """Validate ``instance`` against the schema at ``ref`` (a URL with a ``#/$defs/...`` pointer)."""
    validator = jsonschema.Draft202012Validator({"$ref": ref}, registry=REGISTRY)
    validator.validate(instance)


def validate_event(event: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless the event and each facet match their schemas."""
    validate_against(event, RUN_EVENT)
    for where, facet in _facets(event):
        url = facet.get("_schemaURL", "")
        base = url.split("#", 1)[0]
        if base not in REGISTRY:
            raise AssertionError(f"{where}: no schema known for {url!r}")
        validate_against(facet, url)


def spec_errors(event: dict[str, Any]) -> list[str]:
    """Every way ``event`` breaks the OpenLineage schema (empty when valid); facets are not resolved."""
    validator = jsonschema.Draft202012Validator({"$ref": OPENLINEAGE}, registry=REGISTRY)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(event)]


VECTORS = sorted((SPEC_DIR / "tests").glob("*/*.json"))


def wrap_vector(path: Path) -> dict[str, Any]:
    """One of the spec's facet test vectors, in a COMPLETE run event where that facet belongs."""
    facets = json.loads(path.read_text())
    kind = path.parent.name
    event = run_event("COMPLETE", "spec.vectors", new_run(), inputs=[ds("in")], outputs=[ds("out")])
    if kind.endswith("InputDatasetFacet"):
        event["inputs"][0]["inputFacets"] = facets
    elif kind.endswith("OutputDatasetFacet"):
        event["outputs"][0]["outputFacets"] = facets
    elif kind.endswith("DatasetFacet"):
        event["outputs"][0]["facets"] = facets
    elif kind.endswith("RunFacet"):
        event["run"]["facets"] = facets
    elif kind.endswith("JobFacet"):
        event["job"]["facets"] = facets
    return event


# The facet key -> the spec facet schema (its file and $defs name) of the facets the store reads.
FACET_SCHEMAS = {
    "lineage": None,  # LineageFacet: LineageDatasetFacet or LineageJobFacet, by where it is
    "dataQualityAssertions": ("1-1-0/DataQualityAssertionsDatasetFacet", "DataQualityAssertionsDatasetFacet"),
    "test": ("1-0-1/TestRunFacet", "TestRunFacet"),
    "tags": ("1-0-0/TagsDatasetFacet", "TagsDatasetFacet"),
    "datasetType": ("1-0-1/DatasetTypeDatasetFacet", "DatasetTypeDatasetFacet"),
    "hierarchy": ("1-0-0/HierarchyDatasetFacet", "HierarchyDatasetFacet"),
    "parent": ("1-2-0/ParentRunFacet", "ParentRunFacet"),
    "jobType": ("2-0-4/JobTypeJobFacet", "JobTypeJobFacet"),
    "executionParameters": ("1-0-0/ExecutionParametersRunFacet", "ExecutionParametersRunFacet"),
}


def validate_facet(key: str, facet: dict[str, Any], where: str = "job") -> None:
    """Validate one facet against the newest vendored spec schema of its key (whatever its own
    ``_schemaURL`` says: the spec's vectors point some at the wrong file)."""
    if key == "lineage":
        name = "LineageJobFacet" if where == "job" else "LineageDatasetFacet"
        validate_against(facet, f"https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/{name}")
        return
    path, name = FACET_SCHEMAS[key]  # type: ignore[misc]
    validate_against(facet, f"https://openlineage.io/spec/facets/{path}.json#/$defs/{name}")

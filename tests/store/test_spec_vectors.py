"""The spec's own test vectors: every facet example, wrapped in an event, is stored and exported unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SPEC_DIR
from tests.spec import spec_errors
from tests.store.events import ds, new_run, run_event

VECTORS = sorted((SPEC_DIR / "tests").glob("*/*.json"))


def _wrap(path: Path) -> dict:
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


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_spec_facet_example_is_stored_and_exported_unchanged(store, path):
    event = _wrap(path)
    assert spec_errors(event) == []
    assert store.record(event) is True
    assert list(store.events()) == [event]


def test_the_spec_full_example_event_is_stored(store):
    event = json.loads((SPEC_DIR / "tests" / "example_full_event.json").read_text())
    assert store.record(event) is True
    assert store.describe("job:food_delivery:dbt")["facets"]["sql"]["query"] == "SELECT 1"

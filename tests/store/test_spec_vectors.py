"""The spec's own test vectors: every facet example, wrapped in an event, is stored and exported unchanged."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SPEC_DIR
from tests.spec import FACET_SCHEMAS, VECTORS, spec_errors, validate_facet, wrap_vector


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.parent.name + "/" + p.name)
def test_every_spec_facet_example_is_stored_and_exported_unchanged(store, path):
    event = wrap_vector(path)
    assert spec_errors(event) == []
    assert store.record(event) is True
    assert list(store.events()) == [event]


def test_the_spec_full_example_event_is_stored(store):
    event = json.loads((SPEC_DIR / "tests" / "example_full_event.json").read_text())
    assert store.record(event) is True
    assert store.describe("job:food_delivery:dbt")["facets"]["sql"]["query"] == "SELECT 1"


@pytest.mark.parametrize("key", sorted(FACET_SCHEMAS))
def test_the_vendored_schemas_of_the_2026_facets_are_the_versions_the_store_reads(key):
    """The facets the store reads (declared lineage, assertions, tests, tags, ...) are vendored at the
    spec versions it was written for, and the spec's own examples of each validate against them."""
    path, name = FACET_SCHEMAS[key] or ("1-0-0/LineageFacet", "LineageJobFacet")
    version, file_name = path.split("/")
    schema = json.loads((SPEC_DIR / "facets" / f"{file_name}.json").read_text())
    assert schema["$id"] == f"https://openlineage.io/spec/facets/{version}/{file_name}.json"
    examples = sorted((SPEC_DIR / "tests" / file_name).glob("*.json"))
    for example in examples:
        for facet_key, facet in json.loads(example.read_text()).items():
            assert facet_key == key
            where = "dataset" if "LineageDatasetFacet" in facet.get("_schemaURL", "") else "job"
            validate_facet(key, facet, where)
    assert examples or key in ("test", "executionParameters")  # the spec has no examples of these two

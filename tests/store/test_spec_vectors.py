"""The spec's own test vectors: every facet example, wrapped in an event, is stored and exported unchanged."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SPEC_DIR
from tests.spec import VECTORS, spec_errors, wrap_vector


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

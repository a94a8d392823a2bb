"""The nesting limit ingest and responses share (core.nesting)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_lineage_provider.core.events import parse_event
from airflow_lineage_provider.core.nesting import CLIPPED, MAX_NESTING, clip, exceeds, too_deep
from airflow_lineage_provider.exceptions import InvalidEventError
from tests.store.events import new_run, run_event


def nested(levels: int, leaf: Any = "leaf") -> Any:
    """``levels`` objects and arrays, alternating, around ``leaf``."""
    value = leaf
    for level in range(levels):
        value = {"k": value} if level % 2 else [value]
    return value


def event_nested(levels: int) -> dict[str, Any]:
    """A run event whose deepest point is ``levels`` deep: event > run > facets > facet > ..."""
    return run_event("COMPLETE", "dag_a.deep", new_run(), run_facets={"deep": nested(levels - 3)})


def test_json_text_depth_ignores_brackets_inside_strings():
    assert not exceeds(json.dumps(nested(MAX_NESTING)))
    assert exceeds(json.dumps(nested(MAX_NESTING + 1)))
    assert not exceeds(json.dumps({"s": "[[[[{{{{" * 100, "t": '\\"[' * 200}))
    assert too_deep(nested(3), limit=2) == "$[0].k" and too_deep(nested(3), limit=3) is None


def test_ingest_accepts_an_event_at_the_limit_and_refuses_one_level_more_naming_where():
    parse_event(event_nested(MAX_NESTING))
    with pytest.raises(InvalidEventError) as refused:
        parse_event(event_nested(MAX_NESTING + 1), index=4)
    assert str(MAX_NESTING) in refused.value.reason and refused.value.index == 4
    assert refused.value.field.startswith("$.run.facets.deep")


def test_clip_leaves_data_within_the_limit_alone_and_cuts_what_lies_deeper():
    small = {"a": nested(MAX_NESTING - 1)}
    assert clip(small) is small
    cut = clip({"a": nested(MAX_NESTING + 50)})
    assert not exceeds(json.dumps(cut)) and CLIPPED in json.dumps(cut)

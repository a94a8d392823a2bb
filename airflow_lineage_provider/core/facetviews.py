"""What the spec's naming facets say, in the shape ``show`` and REST answers show it (plain data).

* datasets: ``tags`` (TagsDatasetFacet, with the ``field`` a tag applies to), ``datasetType`` and its
  ``subType`` (DatasetTypeDatasetFacet 1-0-1), ``hierarchy`` (HierarchyDatasetFacet);
* jobs: ``tags`` (TagsJobFacet), ``jobType`` with its ``emissionPattern`` (JobTypeJobFacet 2-0-4);
* runs: ``parent`` and ``root`` (ParentRunFacet 1-2-0), ``parameters`` (ExecutionParametersRunFacet).

Malformed facets give empty values, never errors: stored events were validated, but loosely.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def obj(value: Any) -> dict[str, Any]:
    """``value`` when it is an object, else an empty one: a facet or part of one in another shape says
    nothing (never an error)."""
    return value if isinstance(value, dict) else {}


def objects(value: Any) -> list[dict[str, Any]]:
    """The objects of ``value`` when it is a list (anything else in it is left out), else none."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _facet(facets: dict[str, Any] | None, name: str) -> dict[str, Any]:
    return obj((facets or {}).get(name))


def tags(facets: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The ``tags`` facet's tags: ``{"key", "value", "source"?, "field"?}`` each."""
    return [
        {k: t[k] for k in ("key", "value", "source", "field") if t.get(k) is not None}
        for t in objects(_facet(facets, "tags").get("tags"))
        if t.get("key") is not None
    ]


def tag_names(facets: dict[str, Any] | None, field: str | None = None) -> list[str]:
    """Marquez-style tag names (the keys) of the dataset (``field=None``) or of one of its fields."""
    names = [str(t["key"]) for t in tags(facets) if t.get("field") == field]
    return sorted(set(names))


def dataset(facets: dict[str, Any] | None) -> dict[str, Any]:
    kind = _facet(facets, "datasetType")
    return {
        "tags": tags(facets),
        "datasetType": {"datasetType": kind.get("datasetType"), "subType": kind.get("subType")}
        if kind
        else None,
        "hierarchy": [
            {"type": level.get("type"), "name": level.get("name")}
            for level in objects(_facet(facets, "hierarchy").get("hierarchy"))
        ],
    }


def job(facets: dict[str, Any] | None) -> dict[str, Any]:
    kind = _facet(facets, "jobType")
    shown = {k: kind.get(k) for k in ("processingType", "integration", "jobType", "emissionPattern")}
    return {"tags": tags(facets), "jobType": shown if kind else None}


def _run_ref(ref: Any) -> dict[str, Any] | None:
    if not isinstance(ref, dict):
        return None
    run, job_ref = ref.get("run") or {}, ref.get("job") or {}
    if not isinstance(run, dict) or not isinstance(job_ref, dict):
        return None
    return {
        "runId": run.get("runId"),
        "job": f"job:{job_ref.get('namespace')}:{job_ref.get('name')}" if job_ref.get("name") else None,
    }


def run(facets: dict[str, Any] | None) -> dict[str, Any]:
    parent = _facet(facets, "parent")
    return {
        "parent": _run_ref(parent) if parent else None,
        "root": _run_ref(parent.get("root")),
        "parameters": objects(_facet(facets, "executionParameters").get("parameters")),
    }


def merge_facets(
    old: dict[str, Any], old_time: datetime | None, new: dict[str, Any], t: datetime
) -> dict[str, Any]:
    """Facets with the same key: the one from the later event wins (``old_time``: the latest event
    merged into ``old`` so far)."""
    return {**old, **new} if old_time is None or t >= old_time else {**new, **old}

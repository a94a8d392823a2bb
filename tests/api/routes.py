"""Requests to every read route of the app, generated from its OpenAPI document.

Each GET operation is called once per combination of the values given for its required parameters,
plus once more for each optional parameter that has values. A required parameter without values
fails the test that asked, so a new route is either covered or reported, never skipped.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Call:
    operation: str  # "GET /api/v1/..."
    path: str  # concrete, names percent-encoded as one segment
    params: dict[str, Any]


def read_operations(spec: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path template, operation) of every GET in the document."""
    return [(path, item["get"]) for path, item in sorted(spec["paths"].items()) if "get" in item]


def calls(spec: Mapping[str, Any], values: Mapping[str, Sequence[Any]]) -> Iterator[Call]:
    """Every call of every read operation with ``values`` (parameter name -> candidate values)."""
    for template, operation in read_operations(spec):
        params = operation.get("parameters", [])
        required = [p["name"] for p in params if p.get("required")]
        optional = [p["name"] for p in params if not p.get("required") and p["name"] in values]
        missing = [name for name in required if not values.get(name)]
        if missing:
            raise AssertionError(f"GET {template}: no test values for required parameters {missing}")
        where = {p["name"]: p["in"] for p in params}
        for combo in itertools.product(*(values[name] for name in required)):
            chosen = dict(zip(required, combo, strict=True))
            yield _call(template, where, chosen)
            for name in optional:
                for value in values[name]:
                    yield _call(template, where, {**chosen, name: value})


def _call(template: str, where: Mapping[str, str], chosen: Mapping[str, Any]) -> Call:
    path_values = {k: quote(str(v), safe="") for k, v in chosen.items() if where[k] == "path"}
    query = {k: v for k, v in chosen.items() if where[k] == "query"}
    return Call(f"GET {template}", template.format(**path_values), query)

"""The OpenLineage spec (JSON schemas in ../shared/openlineage-spec) as a jsonschema validator."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from tests.conftest import SPEC_DIR


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    if not (SPEC_DIR / "OpenLineage.json").exists():
        pytest.skip(f"OpenLineage spec not found at {SPEC_DIR}")
    resources = []
    for path in [SPEC_DIR / "OpenLineage.json", *sorted((SPEC_DIR / "facets").glob("*.json"))]:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    main = json.loads((SPEC_DIR / "OpenLineage.json").read_text())
    return Draft202012Validator(main, registry=registry)


def spec_errors(event: dict[str, Any]) -> list[str]:
    """Messages of every way ``event`` breaks the OpenLineage schema (empty when valid)."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(event)]

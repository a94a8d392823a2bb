"""Operators' own OpenLineage methods (the public contract of the OpenLineage provider).

An operator may define ``get_openlineage_facets_on_start()``, ``..._on_complete(task_instance)``
and ``..._on_failure(task_instance)``, each returning an ``OperatorLineage`` (inputs, outputs,
run_facets, job_facets). As the OpenLineage provider's ``DefaultExtractor`` does, a missing
``_on_failure`` falls back to ``_on_complete``, and a missing ``_on_complete`` to ``_on_start``.
"""

from __future__ import annotations

import functools
import importlib.util
from typing import Any

from airflow_lineage_provider.capture.boundary import never_raise
from airflow_lineage_provider.capture.lineage import Lineage, entry

ON_START = "get_openlineage_facets_on_start"
ON_COMPLETE = "get_openlineage_facets_on_complete"
ON_FAILURE = "get_openlineage_facets_on_failure"

# The methods tried, in order, for each kind of event.
CHAIN = {
    "START": (ON_START,),
    "COMPLETE": (ON_COMPLETE, ON_START),
    "FAIL": (ON_FAILURE, ON_COMPLETE, ON_START),
}


@functools.cache
def openlineage_provider_installed() -> bool:
    """Operators build ``OperatorLineage`` from the OpenLineage provider; without it they return None."""
    try:
        return importlib.util.find_spec("airflow.providers.openlineage") is not None
    except ImportError:
        return False


def add_operator_lineage(lineage: Lineage, task: Any, task_instance: Any, event_type: str) -> None:
    """Call the operator's OpenLineage method for ``event_type`` and add what it returns."""
    if task is None or not openlineage_provider_installed():
        return
    for name in CHAIN.get(event_type, ()):
        method = getattr(task, name, None)
        if callable(method):
            break
    else:
        return
    lineage.attempted += 1
    with never_raise(name, on_error=lineage.failed(f"{type(task).__name__}.{name}")):
        result = method() if name == ON_START else method(task_instance)
        if result is None:
            return
        lineage.add_inputs(entry(d) for d in (getattr(result, "inputs", None) or ()))
        lineage.add_outputs(entry(d) for d in (getattr(result, "outputs", None) or ()))
        lineage.add_run_facets(getattr(result, "run_facets", None))
        lineage.add_job_facets(getattr(result, "job_facets", None))

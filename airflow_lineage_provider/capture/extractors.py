"""Extraction: everything known about a task event's inputs and outputs, from three sources in order.

1. the operator's OpenLineage methods (:mod:`.operators`), then what the task logged through the
   ML SDK (:mod:`.pending`, at COMPLETE or FAIL);
2. hook lineage: assets hooks reported and the SQL they ran (:mod:`.hooklineage`, :mod:`.sql`);
3. the task's inlets and outlets, re-read at the end, plus outlets added at run time through
   ``outlet_events`` (:mod:`.assets`).

Then the datasets found get their schema (SQLite tables) and fingerprint facets (:mod:`.fingerprints`).

Every event of a task process also carries the attempt's reproducibility record
(:mod:`.reproducibility`). Results are merged into one :class:`~.lineage.Lineage`; a source that
fails adds an extraction error and the others still count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_lineage_provider.capture import (
    assets,
    fingerprints,
    hooklineage,
    operators,
    pending,
    reproducibility,
    schemas,
)
from airflow_lineage_provider.capture.boundary import never_raise
from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.capture.mlfacets import REPRODUCIBILITY
from airflow_lineage_provider.capture.runinfo import template_context


def extract(task_instance: Any, event_type: str, context: Mapping[str, Any] | None = None) -> Lineage:
    """Lineage of a ``RuntimeTaskInstance`` for a START, COMPLETE or FAIL event (``context``: its
    template context, built by the caller once per event; None: built here)."""
    lineage = Lineage()
    if context is None:
        context = template_context(task_instance)
    task = getattr(task_instance, "task", None)
    operators.add_operator_lineage(lineage, task, task_instance, event_type)
    logged = None
    if event_type != "START":
        with never_raise("ML SDK records", on_error=lineage.failed("ML SDK records")):
            logged = pending.drain(pending.run_key(task_instance))
            if logged is not None:
                lineage.add_inputs(logged.inputs.values())
                lineage.add_outputs(logged.outputs.values())
                lineage.add_job_facets(logged.job_facets)
    with never_raise("reproducibility record", on_error=lineage.failed("reproducibility record")):
        seeds = logged.seeds if logged is not None else []
        record = reproducibility.facet(task_instance, seeds, context)
        lineage.add_run_facets({REPRODUCIBILITY: record})
    if event_type != "START":  # nothing has run yet at START: the collector was just reset
        with never_raise("hook lineage", on_error=lineage.failed("hook lineage")):
            hooklineage.add_hook_lineage(lineage)
    with never_raise("task inlets and outlets", on_error=lineage.failed("task inlets and outlets")):
        lineage.add_inputs(assets.datasets(getattr(task, "inlets", None)))
        lineage.add_outputs(assets.datasets(getattr(task, "outlets", None)))
        if event_type != "START":
            lineage.add_outputs(assets.runtime_outlets(context))
    with never_raise("table schemas", on_error=lineage.failed("table schemas")):
        schemas.add_sqlite_schemas([*lineage.inputs.values(), *lineage.outputs.values()])
    with never_raise("fingerprints", on_error=lineage.failed("fingerprints")):
        fingerprints.add_fingerprints(lineage, event_type, pending.run_key(task_instance))
    return lineage


def prepare() -> None:
    """Import and probe, once, what extraction needs in every task (for a process that forks tasks)."""
    import contextlib
    import platform
    import sqlite3  # noqa: F401 - schemas of SQLite tables

    import openlineage_sql  # noqa: F401 - SQL parsing

    from airflow_lineage_provider.capture import dbschemas, facets, fingerprints, machine, sql  # noqa: F401

    with contextlib.suppress(ImportError):  # hook lineage's collector, which each task resets
        import airflow.sdk.lineage  # noqa: F401
    facets.airflow_version()
    machine.hardware()
    platform.platform()  # the standard library keeps it
    machine.environment()  # each task process only checks that sys.path's directories are unchanged

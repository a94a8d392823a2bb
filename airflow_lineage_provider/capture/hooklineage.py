"""Hook lineage: what hooks reported to Airflow's process-wide ``HookLineageCollector``.

The collector is an ``@cache`` singleton of ``airflow.sdk.lineage``. A task process runs one task,
but ``dag.test()`` / ``airflow dags test`` run every task in one process, where the collector
accumulates across tasks (and fills its limits of 100 assets / 200 extras). :func:`reset` gives each
task a fresh collector at its start, exactly as a fresh task process would.
"""

from __future__ import annotations

import sys
from typing import Any

from airflow_lineage_provider.capture import assets
from airflow_lineage_provider.capture.lineage import Lineage

SQL_JOB = "sql_job"


def _collector_module() -> Any:
    """``airflow.sdk.lineage`` when some hook already imported it, else None: a task that used no hook
    has no collector, and importing the module just to find that out costs a task process 1.5 ms."""
    return sys.modules.get("airflow.sdk.lineage")


def _created() -> bool:
    """Whether this process created the collector yet (creating one just to read it is costly)."""
    module = _collector_module()
    return module is not None and bool(module.get_hook_lineage_collector.cache_info().currsize)


def reset() -> None:
    """Drop the collector so the next hook call starts a fresh, empty one.

    Clearing the ``@cache`` (instead of mutating the collector's private dicts) is what a new task
    process amounts to; nothing in Airflow keeps a reference to the old collector across calls.
    """
    if _created():
        _collector_module().get_hook_lineage_collector.cache_clear()


def collected() -> Any:
    """The collector's ``HookLineage`` (inputs, outputs, extra), or None when nothing was collected."""
    if not _created():
        return None
    collector = _collector_module().get_hook_lineage_collector()
    return collector.collected_assets if collector.has_collected else None


def add_hook_lineage(lineage: Lineage) -> None:
    """Add the hook-reported assets and the parsed SQL of ``sql_job`` extras to ``lineage``."""
    found = collected()
    if found is None:
        return
    lineage.add_inputs(assets.dataset(info.asset) for info in found.inputs)
    lineage.add_outputs(assets.dataset(info.asset) for info in found.outputs)
    extras = [(e.value, e.context) for e in found.extra if e.key == SQL_JOB and isinstance(e.value, dict)]
    if extras:  # SQL parsing is imported by the tasks that ran SQL only
        from airflow_lineage_provider.capture import sql

        sql.add_sql_lineage(lineage, extras)

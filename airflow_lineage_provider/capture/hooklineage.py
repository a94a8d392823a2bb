"""Hook lineage: what hooks reported to Airflow's process-wide ``HookLineageCollector``.

The collector is Airflow's process-wide singleton (:mod:`airflow_lineage_provider.compat` finds it on
each supported Airflow). A task process runs one task, but ``dag.test()`` / ``airflow dags test`` run
every task in one process, where the collector accumulates across tasks (and fills its limits of 100
assets / 200 extras). :func:`reset` gives each task a fresh collector at its start, exactly as a fresh
task process would.
"""

from __future__ import annotations

from typing import Any

from airflow_lineage_provider import compat
from airflow_lineage_provider.capture import assets
from airflow_lineage_provider.capture.lineage import Lineage

SQL_JOB = "sql_job"


def reset() -> None:
    """Drop the collector so the next hook call starts a fresh, empty one.

    Dropping the singleton (instead of mutating the collector's private dicts) is what a new task
    process amounts to; nothing in Airflow keeps a reference to the old collector across calls.
    """
    if compat.collector_created():
        compat.drop_collector()


def collected() -> Any:
    """The collector's ``HookLineage`` (inputs, outputs, extra), or None when nothing was collected."""
    if not compat.collector_created():
        return None
    collector = compat.loaded_hook_lineage().get_hook_lineage_collector()
    return collector.collected_assets if collector.has_collected else None


def add_hook_lineage(lineage: Lineage) -> None:
    """Add the hook-reported assets and the parsed SQL of ``sql_job`` extras to ``lineage``."""
    found = collected()
    if found is None:
        return
    lineage.add_inputs(assets.dataset(info.asset) for info in found.inputs)
    lineage.add_outputs(assets.dataset(info.asset) for info in found.outputs)
    # Airflow 3.1's HookLineage has no ``extra`` unless common-compat's polyfill added it (SQL hooks do)
    extra = getattr(found, "extra", ())
    extras = [(e.value, e.context) for e in extra if e.key == SQL_JOB and isinstance(e.value, dict)]
    if extras:  # SQL parsing is imported by the tasks that ran SQL only
        from airflow_lineage_provider.capture import sql

        sql.add_sql_lineage(lineage, extras)

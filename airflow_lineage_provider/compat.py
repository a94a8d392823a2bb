"""Where Airflow keeps what this package uses from it, on each supported minor (3.1 to 3.3).

Airflow 3.2 moved hook lineage from ``airflow.lineage.hook`` to ``airflow.sdk.lineage`` (its collector
singleton became an ``@cache`` function instead of a module global) and gave the Task SDK its own
``airflow.sdk.plugins_manager``. On 3.1 the same things are in core's ``airflow.lineage.hook`` and
``airflow.plugins_manager``. Everything else this package imports from Airflow is the same on all
three. Nothing here is imported before it is called.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


def hook_lineage() -> Any:
    """The module of ``HookLineageReader`` and ``get_hook_lineage_collector``."""
    try:
        from airflow.sdk import lineage  # Airflow 3.2+
    except ImportError:  # Airflow 3.1 (a name mypy, checking against the newest Airflow, cannot see)
        return importlib.import_module("airflow.lineage.hook")
    return lineage


def loaded_hook_lineage() -> Any:
    """The hook lineage module when something in this process imported it already, else None: a task
    that used no hook has no collector, and importing the module just to find that out costs a task
    process 1.5 ms."""
    return sys.modules.get("airflow.sdk.lineage") or sys.modules.get("airflow.lineage.hook")


def collector_created() -> bool:
    """Whether this process created the hook lineage collector yet (creating one to read it is costly)."""
    lineage = loaded_hook_lineage()
    if lineage is None:
        return False
    cached = getattr(lineage.get_hook_lineage_collector, "cache_info", None)
    if cached is not None:
        return bool(cached().currsize)
    return lineage._hook_lineage_collector is not None  # 3.1: a module global


def drop_collector() -> None:
    """Forget the collector (if one was created), so the next hook call starts a fresh, empty one."""
    lineage = loaded_hook_lineage()
    if lineage is None:
        return
    if hasattr(lineage.get_hook_lineage_collector, "cache_clear"):
        lineage.get_hook_lineage_collector.cache_clear()
    else:
        lineage._hook_lineage_collector = None


def hook_lineage_readers() -> list[type]:
    """The hook lineage reader classes that Airflow's loaded plugins register."""
    try:
        from airflow.sdk.plugins_manager import get_hook_lineage_readers_plugins  # Airflow 3.2+
    except ImportError:  # Airflow 3.1: module globals of core's plugins_manager
        legacy: Any = importlib.import_module("airflow.plugins_manager")
        legacy.initialize_hook_lineage_readers_plugins()
        return list(legacy.hook_lineage_reader_classes or [])
    return list(get_hook_lineage_readers_plugins())


def plugins() -> tuple[list[Any], dict[str, str]]:
    """The plugins every Airflow process loads, and the errors of those that failed to load."""
    manager: Any = importlib.import_module("airflow.plugins_manager")
    if hasattr(manager, "_get_plugins"):  # Airflow 3.2+
        found, errors = manager._get_plugins()
        return list(found), dict(errors)
    manager.ensure_plugins_loaded()  # Airflow 3.1: module globals
    return list(manager.plugins or []), dict(manager.import_errors)

"""Plain snapshots of the Airflow objects listeners receive.

Task processes pass a ``RuntimeTaskInstance``; the scheduler and the api-server pass an ORM
``TaskInstance`` (failures reported by the executor, manual state changes) and an ORM ``DagRun``.
Snapshots are taken in the calling thread, so no ORM object crosses into the budget thread.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow_lineage_provider import conf
from airflow_lineage_provider.capture import facets
from airflow_lineage_provider.core import runids


class _Snapshot:
    """Slotted value classes: a task process imports these, and defining a ``NamedTuple`` (0.3 ms) or a
    dataclass costs a fresh process more than the few fields it holds. Equal when their fields are."""

    __slots__: tuple[str, ...] = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._fields() == other._fields()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"


class DagRunInfo(_Snapshot):
    """One DAG run: the parent job ``<dag_id>`` and its run."""

    __slots__ = ("dag_id", "run_id", "nominal_start", "nominal_end", "namespace", "owners")

    def __init__(
        self,
        dag_id: str,
        run_id: str,
        nominal_start: datetime | None,
        nominal_end: datetime | None,
        namespace: str,
        owners: tuple[str, ...] = (),
    ) -> None:
        self.dag_id, self.run_id, self.namespace = dag_id, run_id, namespace
        self.nominal_start, self.nominal_end = nominal_start, nominal_end
        self.owners = owners  # the DAG's owners; read for DAG-run events only (task events need none)

    @property
    def job_name(self) -> str:
        return self.dag_id

    @property
    def run_uuid(self) -> str:
        return runids.dag_run_id(self.dag_id, self.run_id)


class TaskRunInfo(_Snapshot):
    """One task attempt: the job ``<dag_id>.<task_id>``, one run per try and map index."""

    __slots__ = ("dag_run", "task_id", "try_number", "map_index", "operator", "hostname", "owners")

    def __init__(
        self,
        dag_run: DagRunInfo,
        task_id: str,
        try_number: int,
        map_index: int,
        operator: str | None,
        hostname: str | None,
        owners: tuple[str, ...] = (),
    ) -> None:
        self.dag_run, self.task_id, self.try_number, self.map_index = dag_run, task_id, try_number, map_index
        self.operator, self.hostname, self.owners = operator, hostname, owners

    @property
    def job_name(self) -> str:
        return f"{self.dag_run.dag_id}.{self.task_id}"

    @property
    def run_uuid(self) -> str:
        dag_run = self.dag_run
        return runids.task_run_id(
            dag_run.dag_id, self.task_id, dag_run.run_id, self.try_number, self.map_index
        )


def is_runtime_task_instance(task_instance: Any) -> bool:
    """True for the Task SDK's ``RuntimeTaskInstance`` (a task process, or ``dag.test()``)."""
    module = sys.modules.get("airflow.sdk.execution_time.task_runner")
    return module is not None and isinstance(task_instance, module.RuntimeTaskInstance)


def template_context(task_instance: Any) -> Mapping[str, Any]:
    """The template context of a ``RuntimeTaskInstance``: the one Airflow built for the attempt and
    keeps (``_cached_template_context``, the same dict the task's ``execute`` gets); built when there
    is none yet. ``get_template_context()`` returns that same dict, but validates the task's params
    again and rebuilds part of it on every call."""
    cached = getattr(task_instance, "_cached_template_context", None)
    if isinstance(cached, Mapping) and "dag_run" in cached:
        return cached
    context: Mapping[str, Any] = task_instance.get_template_context()
    return context


def dag_run_info(dag_run: Any, dag_id: str | None = None, with_owners: bool = False) -> DagRunInfo:
    """Snapshot an ORM ``DagRun`` or the Task SDK's ``DagRun`` model; ``with_owners``: with its DAG's
    owners (``dag.owner``, the union of its tasks' owners, as Airflow shows them), when the run has its
    DAG (the scheduler sets it on the ORM ``DagRun``; elsewhere there may be none)."""
    start = getattr(dag_run, "data_interval_start", None)
    end = getattr(dag_run, "data_interval_end", None) if start is not None else None
    if start is None:  # logical_date is None for runs triggered without one; run_after always exists
        start = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    return DagRunInfo(
        dag_id=str(dag_id or dag_run.dag_id),
        run_id=str(dag_run.run_id),
        nominal_start=start,
        nominal_end=end,
        namespace=conf.namespace(),
        owners=facets.owners(getattr(getattr(dag_run, "dag", None), "owner", None)) if with_owners else (),
    )


def operator_path(task: Any) -> str | None:
    """Class path of an operator (real, or the scheduler's serialized stand-in)."""
    if task is None:
        return None
    module = getattr(task, "_task_module", None) or type(task).__module__
    name = getattr(task, "task_type", None) or type(task).__qualname__
    return f"{module}.{name}"


def task_run_info(task_instance: Any, context: Mapping[str, Any] | None = None) -> TaskRunInfo:
    """Snapshot a ``RuntimeTaskInstance`` (``context``: its template context, when the caller has
    it) or an ORM ``TaskInstance``."""
    if is_runtime_task_instance(task_instance):
        dag_run = (context if context is not None else template_context(task_instance))["dag_run"]
        task = task_instance.task
        operator = operator_path(task)
    else:  # ORM TaskInstance (scheduler or api-server): no user code, read columns only
        dag_run = task_instance.dag_run
        task = getattr(task_instance, "task", None)
        operator = operator_path(task) if task is not None else getattr(task_instance, "operator", None)
    return TaskRunInfo(
        dag_run=dag_run_info(dag_run, dag_id=task_instance.dag_id),
        task_id=str(task_instance.task_id),
        try_number=int(task_instance.try_number or 0),
        map_index=int(-1 if task_instance.map_index is None else task_instance.map_index),
        operator=operator,
        hostname=getattr(task_instance, "hostname", None) or None,
        owners=facets.owners(getattr(task, "owner", None)),
    )

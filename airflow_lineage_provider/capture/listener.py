"""The Airflow listener: task and DAG run state changes in, OpenLineage run events out.

Every hook goes through one :func:`never_raise` boundary and the capture time budget
(``[lineage_provider] emit_timeout``): a listener call never fails or hangs the task or the
scheduler loop; a problem costs one warning line. Airflow objects are read in the calling thread;
extraction and delivery run under the budget.

Events: a task attempt gets START when it starts running, COMPLETE on success, FAIL on failure
(including a try that will be retried) and ABORT when it skips itself. A DAG run gets START when
the scheduler starts it and COMPLETE or FAIL when it ends; ``dag.test()`` / ``airflow dags test``
never report a DAG run as started, so there the DAG run has only its terminal event.

Events go to the emitter, which in a task process only appends them to the outbox
(:mod:`airflow_lineage_provider.emit.spool`); a long-lived deliverer stores them
(:mod:`airflow_lineage_provider.emit.deliverer`). Airflow's ``on_starting`` hook tells the listener
which kind of process it is in: a task process or a scheduler starts a host deliverer when none
runs; a process that got no ``on_starting`` (``dag.test()``, ``airflow dags test``) delivers what is
pending itself when its DAG run ends, so the lineage can be read at once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import pluggy

from airflow_lineage_provider import conf
from airflow_lineage_provider.capture import events, extractors, hooklineage, pending
from airflow_lineage_provider.capture.boundary import never_raise
from airflow_lineage_provider.capture.events import ABORT, COMPLETE, FAIL, START
from airflow_lineage_provider.capture.lineage import Lineage
from airflow_lineage_provider.capture.runinfo import (
    dag_run_info,
    is_runtime_task_instance,
    task_run_info,
    template_context,
)
from airflow_lineage_provider.emit import deliverer
from airflow_lineage_provider.emit.base import Emitter
from airflow_lineage_provider.emit.budget import budget_seconds, hand_off, run_within_budget

# The marker of Airflow's pluggy project (what airflow.listeners.hookimpl is); spelt with pluggy so
# that it also works on workers that have only the Task SDK.
hookimpl = pluggy.HookimplMarker("airflow")

# Airflow components whose processes run for long (they start a host deliverer when none runs).
LONG_LIVED_JOBS = frozenset({"SchedulerJob", "TriggererJob", "DagProcessorJob"})


def is_long_lived_job(component: Any) -> bool:
    """True for the ``Job`` of a scheduler, triggerer or dag-processor.

    Airflow calls ``on_starting`` from ``Job.__init__``, before the job runner sets ``job_type``
    (``airflow scheduler`` builds a bare ``Job()``): every Airflow ``Job`` is one of these components."""
    if getattr(component, "job_type", None) in LONG_LIVED_JOBS:
        return True
    module = sys.modules.get("airflow.jobs.job")
    return module is not None and isinstance(component, module.Job)


RUN_END_DELIVERY_SECONDS = 120.0


def prepare_capture() -> None:
    """Load what capture needs in every task, in a process that forks task processes (the scheduler,
    through the listener, and Celery's worker, :mod:`.prefork`)."""
    from airflow_lineage_provider.emit import spool  # noqa: F401 - the outbox emitter of every task

    extractors.prepare()
    conf.read_capture_settings()  # a task process's settings are its parent's


def _send(work: Callable[[], None], what: str) -> None:
    """An event of a scheduler or API server (a long-lived component) goes to its writer thread: its
    loop does not wait for the outbox. Elsewhere (``dag.test()``) it is kept before the hook returns."""
    if deliverer.role() == "component":
        hand_off(work, timeout=budget_seconds(), what=what)
    else:
        run_within_budget(work, timeout=budget_seconds(), what=what)


class LineageListener:
    """Listener object registered by the plugin; delivers events through one :class:`Emitter`."""

    def __init__(self, emitter_factory: Callable[[], Emitter]) -> None:
        self._emitter_factory = emitter_factory
        self._emitter: Emitter | None = None
        self._lock = threading.Lock()

    @property
    def emitter(self) -> Emitter:
        """The emitter in use, built by the factory on first use."""
        with self._lock:
            if self._emitter is None:
                self._emitter = self._emitter_factory()
            return self._emitter

    def use_emitter(self, emitter: Emitter | None) -> Emitter | None:
        """Put ``emitter`` in use (None: build from the factory again); return the one it replaces."""
        with self._lock:
            previous, self._emitter = self._emitter, emitter
        return previous

    # -- the process ------------------------------------------------------------------------------
    @hookimpl
    def on_starting(self, component: Any) -> None:
        with never_raise("lineage capture at process start"):
            if type(component).__name__ == "TaskRunnerMarker":
                deliverer.set_role("task")
            elif is_long_lived_job(component):
                deliverer.set_role("component")
                # The scheduler forks the LocalExecutor's workers, which fork each task process:
                # what capture needs is loaded once here, and every task process starts with it.
                # (Airflow calls this hook from Job.__init__, before the job knows its type, so every
                # long-lived component loads it: the triggerer and dag-processor fork too.)
                self.preload()

    def preload(self) -> None:
        """:func:`prepare_capture`, and the emitter built (the scheduler's task processes use it)."""
        self.emitter  # noqa: B018 - builds the emitter, importing its module
        prepare_capture()

    # -- task instances ---------------------------------------------------------------------------
    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        with never_raise("lineage capture at task start"):
            if is_runtime_task_instance(task_instance):
                hooklineage.reset()  # before the task runs any hook, in the task's own thread
            self._task_event(task_instance, START)

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        with never_raise("lineage capture at task success"):
            self._task_event(task_instance, COMPLETE)

    @hookimpl
    def on_task_instance_failed(
        self, previous_state: Any, task_instance: Any, error: BaseException | str | None
    ) -> None:
        with never_raise("lineage capture at task failure"):
            self._task_event(task_instance, FAIL, error)

    @hookimpl
    def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
        with never_raise("lineage capture at task skip"):
            if is_runtime_task_instance(task_instance):  # a skipped attempt sends nothing it logged
                pending.drain(pending.run_key(task_instance))
            self._task_event(task_instance, ABORT)

    # -- DAG runs ---------------------------------------------------------------------------------
    @hookimpl
    def on_dag_run_running(self, dag_run: Any, msg: str) -> None:
        with never_raise("lineage capture at DAG run start"):
            self._dag_event(dag_run, START, msg)

    @hookimpl
    def on_dag_run_success(self, dag_run: Any, msg: str) -> None:
        with never_raise("lineage capture at DAG run success"):
            self._dag_event(dag_run, COMPLETE, msg)

    @hookimpl
    def on_dag_run_failed(self, dag_run: Any, msg: str) -> None:
        with never_raise("lineage capture at DAG run failure"):
            self._dag_event(dag_run, FAIL, msg)

    # -- shared -----------------------------------------------------------------------------------
    def _task_event(
        self, task_instance: Any, event_type: str, error: BaseException | str | None = None
    ) -> None:
        # Only a task process (or dag.test) has the real operator and its context; the scheduler and
        # api-server must not run user code, so their events carry no extracted lineage. The
        # template context is built once here (Airflow validates the params again on every call).
        runtime = is_runtime_task_instance(task_instance)
        context = template_context(task_instance) if runtime else None
        info = task_run_info(task_instance, context)
        extract = runtime and event_type != ABORT

        def work() -> None:
            lineage = extractors.extract(task_instance, event_type, context) if extract else Lineage()
            self.emitter.emit(events.task_event(info, event_type, lineage, error))

        if runtime:  # the task process (or dag.test()): its event is kept before the task goes on
            run_within_budget(work, timeout=budget_seconds(), what=f"{event_type} event of {info.job_name}")
        else:
            _send(work, f"{event_type} event of {info.job_name}")

    def _dag_event(self, dag_run: Any, event_type: str, msg: str | None) -> None:
        info = dag_run_info(dag_run, with_owners=True)
        _send(
            lambda: self.emitter.emit(events.dag_event(info, event_type, msg)),
            f"{event_type} event of {info.job_name}",
        )
        if event_type != START and deliverer.role() is None:  # dag.test(): nothing long-lived delivers
            # Not on a task's path (the run is over), so bounded for the whole run, not per event: each
            # store operation still gives up after the capture budget.
            run_within_budget(
                deliverer.deliver_pending,
                timeout=max(RUN_END_DELIVERY_SECONDS, budget_seconds()),
                what=f"delivering the lineage of {info.job_name} at the end of its run",
            )

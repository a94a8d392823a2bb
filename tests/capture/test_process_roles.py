"""What Airflow's ``on_starting`` tells the listener: a task process and the long-lived components start
a host deliverer when none runs; the scheduler, which forks the LocalExecutor's workers (and they the
task processes), loads capture's modules once before it forks; anything else is a one-shot process."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_lineage_provider import conf
from airflow_lineage_provider.capture.listener import LineageListener
from airflow_lineage_provider.emit import budget, deliverer
from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.emit.spool import OutboxEmitter
from tests.emit.logs import LineageLog


class TaskRunnerMarker:  # what Airflow passes in a task process (matched by name, as Airflow's is)
    pass


class Job:  # a component that names its type (a job runner has set it)
    def __init__(self, job_type: str) -> None:
        self.job_type = job_type


class AirflowJob:
    """Stands for Airflow's own ``Job`` as ``airflow scheduler`` builds it (``Job()``): Airflow calls
    ``on_starting`` from its ``__init__``, before the job runner sets ``job_type``. Built in the test,
    not at collection: its ``__init__`` calls every registered listener's ``on_starting``."""

    def __call__(self) -> object:
        from airflow.jobs.job import Job

        job = Job()
        assert job.job_type is None
        return job


@pytest.fixture
def listener() -> Iterator[LineageListener]:
    yield LineageListener(emitter_factory=AccumulatingEmitter)
    deliverer.set_role(None)


@pytest.mark.parametrize(
    ("component", "role"),
    [
        (TaskRunnerMarker(), "task"),
        (Job("SchedulerJob"), "component"),
        (Job("TriggererJob"), "component"),
        (Job("DagProcessorJob"), "component"),
        (Job("SomethingElse"), None),
        (AirflowJob(), "component"),
        (object(), None),
    ],
)
def test_on_starting_names_the_process_role(listener: LineageListener, component: object, role: str) -> None:
    listener.on_starting(component() if isinstance(component, AirflowJob) else component)

    assert deliverer.role() == role


def test_a_scheduler_loads_what_its_task_processes_need_before_it_forks() -> None:
    probe = """
import sys
from airflow.jobs.job import Job
from airflow_lineage_provider.plugin import get_listener
get_listener().on_starting(Job())  # what airflow scheduler's Job() calls, before job_type is set
print(",".join(m for m in ("airflow_lineage_provider.capture.sql", "airflow_lineage_provider.emit.spool",
      "openlineage_sql", "sqlite3") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )

    assert done.stdout.strip().split(",") == [
        "airflow_lineage_provider.capture.sql",
        "airflow_lineage_provider.emit.spool",
        "openlineage_sql",
        "sqlite3",
    ]


class DagRun:  # the attributes of an ORM DagRun the listener reads
    dag_id, run_id = "sales", "manual__1"
    data_interval_start = data_interval_end = logical_date = run_after = None


@pytest.mark.parametrize("role", ["component", None])
def test_only_a_one_shot_process_delivers_when_a_dag_run_ends(
    role: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lineage_log: LineageLog
) -> None:
    """A scheduler (or API server) only keeps the DAG run's event in the outbox: the store, here
    unreachable, is never in its loop. ``dag.test()`` delivers at the run's end (and says it failed)."""
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__STORE_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/x")
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT", "3")
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR", str(tmp_path / "outbox"))
    conf.reload()
    outbox = Outbox(tmp_path / "outbox")
    outbox.path.mkdir(parents=True)
    held = os.open(outbox.path / deliverer.LOCK_NAME, os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)  # the API server's deliverer runs: nobody starts another
    listener = LineageListener(emitter_factory=lambda: OutboxEmitter(outbox))
    deliverer.set_role(role)
    try:
        listener.on_dag_run_success(DagRun(), "success")
        assert budget.flush_hand_off(10)  # a component's hook only queued the event for its writer thread
    finally:
        deliverer.set_role(None)
        os.close(held)

    assert outbox.status()[0] == 1  # kept for the deliverer
    failed = [w for w in lineage_log.warnings() if "delivery failed" in w]
    assert len(failed) == (0 if role == "component" else 1), lineage_log.warnings()

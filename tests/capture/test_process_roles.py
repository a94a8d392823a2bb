"""What Airflow's ``on_starting`` tells the listener: a task process and the long-lived components start
a host deliverer when none runs; the scheduler, which forks the LocalExecutor's workers (and they the
task processes), loads capture's modules once before it forks; anything else is a one-shot process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from airflow_lineage_provider.capture.listener import LineageListener
from airflow_lineage_provider.emit import deliverer
from airflow_lineage_provider.emit.memory import AccumulatingEmitter


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

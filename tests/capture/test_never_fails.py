"""Capture never fails a task and loses nothing: with the store unreachable, read-only or locked, the
task's events wait in the outbox, and the one delivery at the end of the ``dag.test()`` run costs one
warning line."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.emit.spool import OutboxEmitter
from tests.capture.conftest import run_dag
from tests.emit.logs import LineageLog

pytestmark = pytest.mark.usefixtures("airflow_db")

EVENTS_OF_A_ONE_TASK_DAG_TEST = 3  # task START, task COMPLETE, DAG run COMPLETE


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox")


def run_capture_one(store_url: str, outbox: Outbox) -> str:
    """dag.test() the one-task DAG with the emitter the plugin gives capture; return the task's state."""
    env = {
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": store_url,
        "AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT": "1",
        "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(outbox.path),
    }
    dag_run = run_dag("capture_one", "capture_one_dag", OutboxEmitter(), env)
    (ti,) = dag_run.get_task_instances()
    return str(ti.state)


def assert_kept_with_one_warning_line(lineage_log: LineageLog, outbox: Outbox) -> None:
    warnings = lineage_log.warnings()
    assert len(warnings) == 1, warnings  # the delivery at the end of the run, not each event
    assert all("\n" not in w for w in warnings)
    assert outbox.status()[0] == EVENTS_OF_A_ONE_TASK_DAG_TEST  # nothing lost: all wait for a retry


def test_task_succeeds_when_the_postgres_store_is_unreachable(
    lineage_log: LineageLog, outbox: Outbox
) -> None:
    state = run_capture_one("postgresql+psycopg2://nobody:secret@127.0.0.1:1/lineage", outbox)

    assert state == "success"
    assert_kept_with_one_warning_line(lineage_log, outbox)
    assert all("secret" not in w for w in lineage_log.warnings())


def test_task_succeeds_when_the_sqlite_store_is_read_only(
    tmp_path: Path, lineage_log: LineageLog, monkeypatch: pytest.MonkeyPatch, outbox: Outbox
) -> None:
    database = tmp_path / "readonly.db"
    sqlite3.connect(database).close()  # an empty file: the store cannot create its tables in it
    # The store reads "file:<path>" of this URI-style URL as a relative path and creates directories
    # for it under the working directory; keep them in tmp_path.
    monkeypatch.chdir(tmp_path)
    state = run_capture_one(f"sqlite:///file:{database}?mode=ro&uri=true", outbox)

    assert state == "success"
    assert_kept_with_one_warning_line(lineage_log, outbox)


@pytest.fixture
def locked_sqlite(tmp_path: Path) -> Iterator[Path]:
    """A SQLite file another connection holds an exclusive lock on for the whole test."""
    database = tmp_path / "locked.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("CREATE TABLE hold (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    yield database
    holder.execute("ROLLBACK")
    holder.close()


def test_task_succeeds_when_the_sqlite_store_is_locked(
    locked_sqlite: Path, lineage_log: LineageLog, outbox: Outbox
) -> None:
    state = run_capture_one(f"sqlite:///{locked_sqlite}", outbox)

    assert state == "success"
    assert_kept_with_one_warning_line(lineage_log, outbox)

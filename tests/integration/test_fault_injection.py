"""Fault injection with real processes and databases: the store unreachable while a real DAG runs
under ``airflow dags test``, the task process killed mid-emit, a damaged outbox file. Tasks succeed,
``airflow-lineage replay`` delivers everything once, and the graph equals an undisturbed run's."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.emit.outbox import Outbox
from tests.figures import report
from tests.integration.pipeline import DAG_ID, assert_pipeline_lineage, clean_environ, prepare, stored_events

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
EVENTS_PER_RUN = 7  # START and COMPLETE of three tasks, COMPLETE of the DAG run


def dags_test(env: dict[str, str], airflow_home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", DAG_ID],
        env={
            **clean_environ(),
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def replay(
    outbox: Path, store_url: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "airflow-lineage"), "replay", "--outbox", str(outbox), "--store-url", store_url],
        env={**clean_environ(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def graph_shape(store_url: str, export: str) -> tuple[set[str], set[tuple[str, str, str]]]:
    """Nodes and edges around the pipeline (upstream of its export file, downstream of its first table)."""
    store = LineageStore.from_url(store_url)
    try:
        up = store.lineage(f"dataset:file:{export}", "upstream", 10)
        down = store.lineage(f"job:airflow:{DAG_ID}.load", "downstream", 10)
    finally:
        store.close()
    nodes = up.node_ids() | down.node_ids()
    edges = {(e.source, e.target, e.type) for e in up.edges + down.edges}
    return nodes, edges


def event_shape(events: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    """What an event says, without the ids and times that differ between two runs."""

    def names(datasets: list[dict[str, Any]] | None) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((d["namespace"], d["name"]) for d in datasets or []))

    return Counter(
        (e["job"]["name"], e["eventType"], names(e.get("inputs")), names(e.get("outputs"))) for e in events
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """An unreachable store URL, and two reachable empty stores (replay target and undisturbed run)."""
    if request.param == "sqlite":
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("a file where the store's directory should be")
        yield {
            "down": f"sqlite:///{blocker}/lineage.db",
            "replayed": f"sqlite:///{tmp_path / 'replayed.db'}",
            "undisturbed": f"sqlite:///{tmp_path / 'undisturbed.db'}",
        }
        return
    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_url")
    schemas = {name: f"fi_{name}_{uuid.uuid4().hex[:6]}" for name in ("replayed", "undisturbed")}
    engine = create_engine(base)
    with engine.begin() as conn:
        for schema in schemas.values():
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    wrong_port = base.replace("127.0.0.1:5432", "127.0.0.1:1")
    assert wrong_port != base, f"expected a PostgreSQL URL on 127.0.0.1:5432, got {base}"
    yield {
        "down": wrong_port,
        **{name: f"{base}?options=-csearch_path%3D{schema}" for name, schema in schemas.items()},
    }
    engine = create_engine(base)
    with engine.begin() as conn:
        for schema in schemas.values():
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _pipeline(tmp_path: Path) -> dict[str, str]:
    base = tmp_path / "pipeline"
    base.mkdir()
    return prepare(base)


def test_a_dag_run_against_an_unreachable_store_succeeds_and_replay_restores_the_same_graph(
    airflow_db: Path, tmp_path: Path, stores: dict[str, str]
) -> None:
    env = _pipeline(tmp_path)
    outbox = tmp_path / "outbox"
    disturbed = {
        **env,
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": stores["down"],
        "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(outbox),
        "AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT": "5",
    }

    run = dags_test(disturbed, airflow_db)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "kept in the outbox" in run.stdout + run.stderr
    assert Outbox(outbox).status()[0] == EVENTS_PER_RUN

    first = replay(outbox, stores["replayed"])
    second = replay(outbox, stores["replayed"])  # nothing left: nothing stored twice

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"replayed {EVENTS_PER_RUN} events"), first.stdout
    assert second.stdout.startswith("replayed 0 events"), second.stdout
    replayed = stored_events({"AIRFLOW__LINEAGE_PROVIDER__STORE_URL": stores["replayed"]})
    assert_pipeline_lineage({**env, "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": stores["replayed"]}, replayed)

    calm = dags_test(
        {
            **env,
            "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": stores["undisturbed"],
            "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(tmp_path / "calm-outbox"),
        },
        airflow_db,
    )
    assert calm.returncode == 0, calm.stdout[-3000:] + calm.stderr[-3000:]
    undisturbed = stored_events({"AIRFLOW__LINEAGE_PROVIDER__STORE_URL": stores["undisturbed"]})

    keys = [(e["run"]["runId"], e["eventType"], e["eventTime"]) for e in replayed]
    backend = stores["replayed"].split(":", 1)[0]
    report(
        f"dags test with the store unreachable, then replay ({backend})",
        sent=EVENTS_PER_RUN,
        kept_in_outbox=EVENTS_PER_RUN,
        stored=len(set(keys)),
        duplicated=len(keys) - len(set(keys)),
        lost=EVENTS_PER_RUN - len(set(keys)),
        undisturbed_run_stored=len(undisturbed),
    )
    assert len(keys) == len(set(keys)) == EVENTS_PER_RUN
    assert event_shape(replayed) == event_shape(undisturbed)
    export = env["LINEAGE_IT_EXPORT"]
    assert graph_shape(stores["replayed"], export) == graph_shape(stores["undisturbed"], export)


def test_a_task_process_killed_mid_emit_leaves_a_readable_outbox_that_replays_cleanly(
    airflow_db: Path, tmp_path: Path
) -> None:
    env = _pipeline(tmp_path)
    store_url = env["AIRFLOW__LINEAGE_PROVIDER__STORE_URL"]
    created = LineageStore.from_url(store_url)
    created.upgrade()
    created.close()
    outbox = Outbox(tmp_path / "outbox")
    lock = sqlite3.connect(store_url.removeprefix("sqlite:///"), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")  # every write now waits: the task hangs inside its emit
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "dags", "test", DAG_ID],
            env={
                **clean_environ(),
                "AIRFLOW_HOME": str(airflow_db),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                **env,
                "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(outbox.path),
                "AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT": "120",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 180
            while not outbox.files() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert outbox.files(), "the task never reached its first emit"
            time.sleep(0.5)  # well inside the store write that waits for the lock
            assert process.poll() is None, "the task process ended before it could be killed"
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)
    finally:
        lock.execute("ROLLBACK")
        lock.close()

    pending = outbox.files()
    readable = [outbox.read(path) for path in pending]
    assert pending and all(p is not None for p in readable)
    assert not outbox.corrupt_dir.exists()

    result = replay(outbox.path, store_url)

    assert result.returncode == 0, result.stderr
    stored = stored_events(env)
    keys = {(e["run"]["runId"], e["eventType"]) for e in stored}
    kept = {(p.event["run"]["runId"], p.event["eventType"]) for p in readable if p is not None}
    report(
        "a process killed mid-delivery, then replay (sqlite)",
        kept_in_outbox=len(kept),
        stored=len(stored),
        duplicated=len(stored) - len(keys),
        lost=len(kept - keys),
    )
    assert keys == kept and len(stored) == len(kept)
    assert (f"{DAG_ID}.load", "START") in {(e["job"]["name"], e["eventType"]) for e in stored}
    assert outbox.status()[0] == 0

"""Remote workers: the http emitter posts to a real ``airflow api-server``. With the API server down a
real DAG run succeeds and its events wait in the outbox; a bad token keeps them there; once the
server is reachable ``airflow-lineage replay`` — or the API server's own deliverer — delivers
every event exactly once."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from airflow_lineage_provider.emit.outbox import Outbox
from bench.processes import free_port
from tests.figures import report
from tests.integration.pipeline import assert_pipeline_lineage, clean_environ, stored_events
from tests.integration.test_api_server import api_server  # noqa: F401 - the real api-server fixture
from tests.integration.test_fault_injection import BIN, EVENTS_PER_RUN, _pipeline, dags_test

pytestmark = pytest.mark.integration


@pytest.fixture
def fast_drain(monkeypatch: pytest.MonkeyPatch) -> None:
    """The api-server started after this drains its outbox every second."""
    monkeypatch.setenv("AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DRAIN_INTERVAL", "1")


def _replay(outbox: Path, airflow_home: Path, url: str, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "airflow-lineage"), "replay", "--outbox", str(outbox)],
        env={
            **clean_environ(),
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__LINEAGE_PROVIDER__EMITTER": "http",
            "AIRFLOW__LINEAGE_PROVIDER__HTTP_URL": url,
            "AIRFLOW__LINEAGE_PROVIDER__HTTP_TOKEN": token,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_the_api_server_down_tasks_succeed_and_every_event_arrives_once_it_is_back(
    fast_drain: None,
    api_server: tuple[str, dict[str, str]],  # noqa: F811 - the fixture imported above
    airflow_db: Path,
    tmp_path: Path,
) -> None:
    base_url, tokens = api_server
    env = _pipeline(tmp_path)
    store = {"AIRFLOW__LINEAGE_PROVIDER__STORE_URL": f"sqlite:///{tmp_path / 'lineage.db'}"}  # the server's
    worker_outbox = Outbox(tmp_path / "worker-outbox")
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    worker = {
        **env,
        "AIRFLOW__LINEAGE_PROVIDER__EMITTER": "http",
        "AIRFLOW__LINEAGE_PROVIDER__HTTP_URL": down,
        "AIRFLOW__LINEAGE_PROVIDER__HTTP_TOKEN": tokens["admin"],
        "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(worker_outbox.path),
        "AIRFLOW__LINEAGE_PROVIDER__EMIT_TIMEOUT": "5",
    }
    worker.pop("AIRFLOW__LINEAGE_PROVIDER__STORE_URL")  # a remote worker has no store

    run = dags_test(worker, airflow_db)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "kept in the outbox" in run.stdout + run.stderr
    assert worker_outbox.status()[0] == EVENTS_PER_RUN

    refused = _replay(worker_outbox.path, airflow_db, base_url, "not-a-token")
    assert refused.returncode == 1
    assert "HTTP 401" in refused.stderr or "HTTP 403" in refused.stderr, refused.stderr
    assert "http_token" in refused.stderr
    assert worker_outbox.status()[0] == EVENTS_PER_RUN

    delivered = _replay(worker_outbox.path, airflow_db, base_url, tokens["admin"])
    again = _replay(worker_outbox.path, airflow_db, base_url, tokens["admin"])

    assert delivered.returncode == 0, delivered.stderr
    assert delivered.stdout.startswith(f"replayed {EVENTS_PER_RUN} events"), delivered.stdout
    assert again.stdout.startswith("replayed 0 events"), again.stdout
    events = stored_events(store)
    keys = {(e["run"]["runId"], e["eventType"], e["eventTime"]) for e in events}
    report(
        "http emitter, API server down, then replay over HTTP",
        sent=EVENTS_PER_RUN,
        kept_in_outbox=EVENTS_PER_RUN,
        stored=len(keys),
        duplicated=len(events) - len(keys),
        lost=EVENTS_PER_RUN - len(keys),
    )
    assert len(events) == len(keys) == EVENTS_PER_RUN
    assert_pipeline_lineage({**env, **store}, events)

    # A worker on the API server's own machine: its outbox is the server's, drained periodically.
    server_outbox = Outbox(os.environ["AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR"])
    second = dags_test(
        {**worker, "AIRFLOW__LINEAGE_PROVIDER__OUTBOX_DIR": str(server_outbox.path)}, airflow_db
    )
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    kept = server_outbox.status()[0]  # reported only: the server may already be draining
    deadline = time.monotonic() + 120
    while server_outbox.status()[0] and time.monotonic() < deadline:
        time.sleep(1)
    events = stored_events(store)
    keys = {(e["run"]["runId"], e["eventType"], e["eventTime"]) for e in events}
    report(
        "http emitter, API server down, then the API server's deliverer",
        sent=EVENTS_PER_RUN,
        kept_in_outbox=kept,
        stored=len(keys) - EVENTS_PER_RUN,
        duplicated=len(events) - len(keys),
        lost=2 * EVENTS_PER_RUN - len(keys),
        left_in_outbox=server_outbox.status()[0],
    )
    assert server_outbox.status()[0] == 0
    assert len(events) == len(keys) == 2 * EVENTS_PER_RUN

    # And with the server up, a worker's events go straight through.
    live = dags_test({**worker, "AIRFLOW__LINEAGE_PROVIDER__HTTP_URL": base_url}, airflow_db)
    assert live.returncode == 0, live.stdout[-3000:] + live.stderr[-3000:]
    assert "lineage:" not in live.stdout + live.stderr  # no warning at all
    assert worker_outbox.status()[0] == 0
    assert len(stored_events(store)) == 3 * EVENTS_PER_RUN

"""A real distributed run: CeleryExecutor, Redis, PostgreSQL for Airflow and for the lineage store,
separate api-server, scheduler, dag-processor and two Celery workers (see ``cluster.py``). Both example
DAGs are triggered through Airflow's REST API; the lineage REST API then holds every task's lineage,
each event exactly once, with the hostname of the worker that ran the task. The same holds when the
workers cannot reach the store at all and deliver over HTTP through the api-server."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_lineage_provider.core import runids
from airflow_lineage_provider.emit.outbox import Outbox
from bench.processes import wait_for
from tests.integration.apiserver import finished_state, trigger
from tests.integration.cluster import Cluster, running_cluster, running_workers
from tests.integration.test_example_dags import EXAMPLES, JOB_NAMESPACE, ExampleRun, expected_lineage

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.timeout(1200)]

WORKERS = ["worker-a", "worker-b"]
UNREACHABLE_STORE = "postgresql+psycopg2://postgres@127.0.0.1:1/lineage"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with running_cluster(tmp_path_factory.mktemp("celery")) as running:
        yield running


def run_examples(cluster: Cluster) -> dict[str, str]:
    """Trigger both example DAGs at once (so both workers get tasks); wait for both; their run ids."""
    with cluster.api() as api:
        runs = {dag_id: trigger(api, dag_id, cluster.logs) for dag_id in EXAMPLES}
        for dag_id, run_id in runs.items():
            assert finished_state(api, dag_id, run_id, cluster.logs, timeout=600) == "success"
    return runs


def task_instances(api: httpx.Client, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
    answer.raise_for_status()
    return list(answer.json()["task_instances"])


def events_of(api: httpx.Client, runs: dict[str, str]) -> list[dict[str, Any]]:
    """Every event the lineage REST API holds for these DAG runs (their own and their tasks')."""
    answer = api.get("/lineage/api/v1/events/lineage", params={"limit": 1000, "sortDirection": "asc"})
    answer.raise_for_status()
    dag_runs = {runids.dag_run_id(dag_id, run_id) for dag_id, run_id in runs.items()}
    return [
        e
        for e in answer.json()["events"]
        if e["run"]["runId"] in dag_runs
        or (e["run"]["facets"].get("airflowLineage_task") or {}).get("run_id") in runs.values()
    ]


def job_io(api: httpx.Client, job_name: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Datasets the lineage REST API says a job read and wrote."""
    job_id = f"job:{JOB_NAMESPACE}:{job_name}"
    answer = api.get("/lineage/api/v1/lineage", params={"nodeId": job_id, "depth": 1, "direction": "both"})
    answer.raise_for_status()
    nodes = {n["id"]: n for n in answer.json()["graph"]}

    def dataset(node_id: str) -> tuple[str, str]:
        data = nodes[node_id]["data"]
        return (data["namespace"], data["name"])

    job = nodes[job_id]
    inputs = {dataset(e["origin"]) for e in job["inEdges"]}
    outputs = {dataset(e["destination"]) for e in job["outEdges"]}
    return inputs, outputs


def keys(events: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter((e["run"]["runId"], e["eventType"]) for e in events)


def assert_each_event_arrived_once_with_its_worker(
    api: httpx.Client, cluster: Cluster, runs: dict[str, str]
) -> None:
    """A START and a COMPLETE per DAG run and per task attempt Airflow reports, each exactly once,
    with the hostname Airflow recorded for the attempt; both workers ran tasks."""
    expected: Counter[tuple[str, str]] = Counter()
    hostnames = {}
    for dag_id, run_id in runs.items():
        expected.update((runids.dag_run_id(dag_id, run_id), kind) for kind in ("START", "COMPLETE"))
        for ti in task_instances(api, dag_id, run_id):
            run_uuid = runids.task_run_id(dag_id, ti["task_id"], run_id, ti["try_number"], ti["map_index"])
            expected.update((run_uuid, kind) for kind in ("START", "COMPLETE"))
            hostnames[run_uuid] = ti["hostname"]

    def arrived() -> list[dict[str, Any]] | None:
        found = events_of(api, runs)
        return found if set(keys(found)) >= set(expected) else None

    events = wait_for("every event in the lineage store", arrived, 120, cluster.logs)
    assert keys(events) == expected  # exactly once: no duplicate, no stray attempt
    recorded = {
        e["run"]["runId"]: e["run"]["facets"]["airflowLineage_task"].get("hostname")
        for e in events
        if "airflowLineage_task" in e["run"]["facets"]
    }
    assert recorded == hostnames  # the host Airflow says ran the task is in its lineage
    assert set(recorded.values()) == set(WORKERS), Counter(recorded.values())  # both workers ran tasks


def assert_every_task_has_its_expected_lineage(api: httpx.Client, cluster: Cluster) -> None:
    """Each task's inputs and outputs, as the lineage REST API answers, are those in dags/*.expected.json."""
    placeholders = ExampleRun(cluster.store_url, cluster.example_db, cluster.data_dir, cluster.env)
    problems = []
    for dag_id in EXAMPLES:
        for job_name, job in expected_lineage(dag_id, placeholders)["jobs"].items():
            want = (
                {(d["namespace"], d["name"]) for d in job["inputs"]},
                {(d["namespace"], d["name"]) for d in job["outputs"]},
            )
            got = job_io(api, job_name)
            if got != want:
                problems.append(f"{job_name}: expected {want}, got {got}")
    assert not problems, "\n".join(problems)


def assert_every_task_lineage_arrived_once_from_its_worker(cluster: Cluster, runs: dict[str, str]) -> None:
    with cluster.api() as api:
        assert_each_event_arrived_once_with_its_worker(api, cluster, runs)
        assert_every_task_has_its_expected_lineage(api, cluster)


def preloaded(pid: int) -> bool:
    """The process has capture's SQL parser mapped: loaded once, before it forks task processes."""
    return "openlineage_sql" in Path(f"/proc/{pid}/maps").read_text()


def test_celery_workers_capture_every_tasks_lineage_into_the_postgres_store(cluster: Cluster) -> None:
    with running_workers(cluster, WORKERS, {}) as outboxes:
        # Celery's main process of each worker loaded capture before it started its pool
        # (airflow_lineage_provider/capture/prefork.py), so its task processes start with it.
        assert all(preloaded(pid) for pid in cluster.worker_pids.values()), cluster.worker_pids
        runs = run_examples(cluster)

    assert_every_task_lineage_arrived_once_from_its_worker(cluster, runs)
    assert all(Outbox(path).status()[0] == 0 for path in outboxes.values())


def test_workers_without_a_route_to_the_store_deliver_lineage_through_the_api_server(
    cluster: Cluster,
) -> None:
    remote = {
        "AIRFLOW__LINEAGE_PROVIDER__EMITTER": "http",
        "AIRFLOW__LINEAGE_PROVIDER__HTTP_URL": cluster.base_url,
        "AIRFLOW__LINEAGE_PROVIDER__HTTP_TOKEN": cluster.admin_token,
        "AIRFLOW__LINEAGE_PROVIDER__STORE_URL": UNREACHABLE_STORE,  # nothing listens on port 1
    }
    with running_workers(cluster, WORKERS, remote) as outboxes:
        runs = run_examples(cluster)

    assert_every_task_lineage_arrived_once_from_its_worker(cluster, runs)
    assert all(Outbox(path).status()[0] == 0 for path in outboxes.values())  # nothing waits for replay

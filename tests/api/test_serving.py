"""Deployments and served predictions, end to end: a real DAG run trains and deploys a model
(``ml.log_deployment``), a served model uses ``airflow_lineage_provider.serving`` over real HTTP
against the API in a real server (uvicorn serving Airflow's app), and its trace id leads back to the
raw data through the Python API, REST and the CLI; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from airflow_lineage_provider.emit.memory import AccumulatingEmitter
from airflow_lineage_provider.serving import (
    LineageClient,
    LineageUnavailableError,
    input_hash,
    prediction_event,
)
from tests.capture.conftest import run_dag
from tests.cli.shell import cli

MODEL_URI, MODEL_ID = "file:///srv/ml/model.pkl", "dataset:file:/srv/ml/model.pkl"
FEATURES_ID = "dataset:file:/srv/ml/features.csv"
SECRET = "a-customer-input-never-sent"


@pytest.fixture(scope="module")
def trained(airflow_db: Any) -> list[dict[str, Any]]:
    """The events of a real run of the capture_ml DAG: train (model version 3), then deploy it."""
    emitter = AccumulatingEmitter()
    run_dag("capture_ml", "capture_ml_dag", emitter)
    return emitter.dicts()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(airflow_client: Any) -> Iterator[str]:
    """Airflow's API app (with our plugin) behind a real HTTP server; the base URL of our API."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        airflow_client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}/lineage"
    running.should_exit = True
    thread.join(10)


def _redeploy(events: list[dict[str, Any]], traffic: float) -> dict[str, Any]:
    """The deploy task's COMPLETE again, as a later run raising the traffic share."""
    complete = next(
        e for e in events if e["job"]["name"].endswith(".deploy") and e["eventType"] == "COMPLETE"
    )
    again = json.loads(json.dumps(complete))
    again["run"]["runId"] = str(uuid.uuid4())
    again["eventTime"] = (datetime.fromisoformat(again["eventTime"]) + timedelta(minutes=5)).isoformat()
    again["outputs"][0]["facets"]["airflowLineage_deployment"]["traffic"] = traffic
    return again


def test_a_served_prediction_traces_back_to_the_raw_data(api, store, server, trained) -> None:
    store.record_many([*trained, _redeploy(trained, 0.5)])
    client = LineageClient(server, token=api.token("admin"))
    reproducible = store.ml.reproducible(MODEL_ID, "3")["reproducible"]

    headers = client.lineage_headers(MODEL_URI, "3", target="risk-api", environment="staging")
    trace = client.log_predictions(
        MODEL_URI,
        "3",
        [{"input": {"customer": SECRET, "n": i}, "prediction": i / 600} for i in range(600)],
        target="risk-api",
        environment="staging",
    )

    assert headers == {
        "X-Model-Version": f"{MODEL_ID}@3",
        "X-Dataset-Version": f"{FEATURES_ID}@f1",
        "X-Reproducible": "true" if reproducible else "false",
        "X-Lineage-Trace-Id": trace,
    }
    assert client.lineage_headers(MODEL_URI, "3", target="risk-api", environment="staging") == headers
    train = next(e for e in trained if e["job"]["name"].endswith(".train"))["run"]["runId"]
    found = api.ok(f"/api/v1/ml/trace/{trace}")
    assert found["predictions"]["count"] == 600 and found["predictions"]["batches"] == 2  # 500 a batch
    assert found["model"] == {"id": MODEL_ID, "version": "3"}
    assert found["trainingRunId"] == train
    deployment = found["deployment"]
    assert (deployment["target"], deployment["environment"]) == ("risk-api", "staging")
    assert (deployment["traffic"], deployment["previousTraffic"]) == (0.5, 0.25)
    assert FEATURES_ID in found["provenance"]["sources"]
    assert [s["runId"] for s in found["provenance"]["steps"]][:1] == [trace]
    assert train in [s["runId"] for s in found["provenance"]["steps"]]
    assert found == json.loads(json.dumps(store.ml.trace(trace)))  # REST answers what Python answers

    # the inputs themselves were never sent: only their hashes
    stored = json.dumps(list(store.events(run_id=trace)))
    assert SECRET not in stored and input_hash({"customer": SECRET, "n": 7}) in stored

    # models and the audit list the deployments and the traffic change
    (model,) = [m for m in api.ok("/api/v1/ml/models")["models"] if m["id"] == MODEL_ID]
    assert [(d["traffic"], d["previousTraffic"]) for d in model["deployments"]] == [(0.25, None), (0.5, 0.25)]
    audit = api.ok("/api/v1/ml/audit", nodeId=MODEL_ID)
    assert audit["deployments"] == model["deployments"]
    markdown = api.get("/api/v1/ml/audit", params={"nodeId": MODEL_ID, "format": "markdown"}).text
    assert "## Deployments" in markdown and "| staging | 25% -\\> 50% |" in markdown, markdown

    # a reader of one DAG may not see the serving run: the same 404 as an unknown trace id
    hidden = api.get(f"/api/v1/ml/trace/{trace}", "viewer_a")
    unknown = api.get(f"/api/v1/ml/trace/{uuid.uuid4()}", "admin")
    assert (hidden.status_code, unknown.status_code) == (404, 404), (hidden.text, unknown.text)


def test_the_cli_traces_a_prediction(store, store_url, trained) -> None:
    events = [*trained]
    store.record_many(events)
    trace = str(uuid.uuid4())
    ref = {"namespace": "file", "name": "/srv/ml/model.pkl", "version": "3"}
    store.record(prediction_event(trace, ref, "risk-api", "staging", [{"inputHash": "sha256:00"}]))

    result = cli("trace", trace, "--store-url", store_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        f"trace {trace}: 1 prediction(s) in 1 batch(es) to dataset:ml-predictions:"
    )
    assert "served by dataset:ml-deployments:staging/risk-api (staging, traffic 25%)" in result.stdout
    assert f"read {FEATURES_ID} @ f1" in result.stdout
    missing = cli("trace", str(uuid.uuid4()), "--store-url", store_url)
    assert missing.returncode != 0 and "trace" in missing.stderr


def test_serving_survives_an_unreachable_lineage_api_and_refuses_bad_records() -> None:
    client = LineageClient(f"http://127.0.0.1:{_free_port()}/lineage", timeout=2)

    headers = client.lineage_headers(MODEL_URI, "3", target="api")

    assert headers["X-Reproducible"] == "unknown" and headers["X-Dataset-Version"] == ""
    assert headers["X-Model-Version"] == f"{MODEL_ID}@3"
    with pytest.raises(LineageUnavailableError, match="failed"):
        client.log_predictions(MODEL_URI, "3", [{"inputHash": "sha256:1"}], target="api")
    with pytest.raises(ValueError, match="record 1 needs 'input'"):
        client.log_predictions(MODEL_URI, "3", [{"input": 1}, {"prediction": 2}], target="api")
    with pytest.raises(ValueError, match="model must be a URI"):
        client.lineage_headers("model.pkl", "3")
    with pytest.raises(ValueError, match="base_url must be an http"):
        LineageClient("airflow:8080")


def test_the_serving_helper_imports_nothing_outside_the_standard_library() -> None:
    code = (
        "import sys, airflow_lineage_provider.serving\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'airflow', 'sqlalchemy', 'pydantic', 'fastapi', 'openlineage', 'alembic', 'psycopg2'})\n"
        "print(','.join(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_served_model_script_answers_with_a_trace_id_that_resolves_to_the_raw_data(
    api, store, server, trained
) -> None:
    """docs/serve_model.py with its model's predict function swapped for a sum (the example model needs
    the example DAG's files; the HTTP service, its headers and its recording are the script's own)."""
    import importlib.util
    import urllib.request
    from http.server import ThreadingHTTPServer

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("serve_model", REPO / "docs" / "serve_model.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    store.record_many(trained)
    deployed = json.loads(json.dumps(trained).replace("staging/risk-api", "staging/house-prices-api"))
    store.record_many([_redeploy(deployed, 1.0)])
    lineage = LineageClient(server, token=api.token("admin"))
    served = ThreadingHTTPServer(("127.0.0.1", 0), script.handler(sum, MODEL_URI, "3", lineage))
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        body = json.dumps({"area_m2": 1.5, "rooms": 2, "age_years": 0.5}).encode()
        url = f"http://127.0.0.1:{served.server_address[1]}/predict"
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST")) as answer:
            trace, predicted = answer.headers["X-Lineage-Trace-Id"], json.loads(answer.read())
        bad = urllib.request.Request(url, data=b'{"rooms": "many"}', method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bad)
        refused.value.close()
    finally:
        served.shutdown()
        served.server_close()
    found = api.ok(f"/api/v1/ml/trace/{trace}")

    assert predicted == {"predicted_price_k": 4.0}
    assert refused.value.code == 400
    assert found["predictions"]["count"] == 1
    assert found["deployment"]["deployment"] == "dataset:ml-deployments:staging/house-prices-api"
    assert FEATURES_ID in found["provenance"]["sources"]

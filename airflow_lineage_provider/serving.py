"""Lineage for a served model, from an application outside Airflow: the Python standard library only.

    from airflow_lineage_provider.serving import LineageClient

    lineage = LineageClient("http://airflow:8080/lineage", token=os.environ["LINEAGE_TOKEN"])
    headers = lineage.lineage_headers("file:///models/churn.pkl", "7", target="churn-api")
    # ... answer the request with these headers, then, in batches:
    lineage.log_predictions("file:///models/churn.pkl", "7", [{"input": features, "prediction": 0.8}],
                            target="churn-api")

``lineage_headers`` returns ``X-Model-Version``, ``X-Dataset-Version`` (the training data versions the
model version was trained on), ``X-Reproducible`` and ``X-Lineage-Trace-Id``, cached per model
version; ``log_predictions`` posts the records (a hash of each input, never the input) to the ingest
endpoint as one OpenLineage event per batch, under that trace id. ``airflow-lineage trace TRACE_ID``
(and ``GET /api/v1/ml/trace/{trace_id}``) then answer prediction -> deployment -> model version ->
training run -> training data -> raw sources.

Serving never fails because lineage does: a lineage API that cannot be reached gives headers with
``X-Reproducible: unknown`` and no dataset versions (asked again after ``retry_after`` seconds), and
``log_predictions`` raises :class:`LineageUnavailableError`, for the caller to log or queue. Bad arguments
raise ``ValueError`` naming what is wrong. Importing this module imports nothing outside the standard
library (of this package: the facet builders and URI naming, themselves stdlib only).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from airflow_lineage_provider.capture import facets, mlfacets
from airflow_lineage_provider.core.naming import dataset_from_uri

DEPLOYMENTS_NAMESPACE = "ml-deployments"  # as ml.log_deployment names deployments
PREDICTIONS_NAMESPACE = "ml-predictions"
SERVING_NAMESPACE = "serving"
BATCH = 500  # prediction records per event, well inside the ingest endpoint's size limit


class LineageUnavailableError(RuntimeError):
    """The lineage API could not be reached or refused the request (the message says which)."""


def input_hash(value: Any) -> str:
    """SHA-256 of an input's canonical JSON (sorted keys, compact): the same input, the same hash."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _model_uri(uri: Any) -> tuple[str, str]:
    """(namespace, name) of a model URI, named as ``ml.log_model`` names it."""
    if not isinstance(uri, str) or "://" not in uri:
        raise ValueError(f"model must be a URI with a scheme (file:///path, s3://bucket/key), not {uri!r}")
    return dataset_from_uri(uri.strip())


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, not {value!r}")
    return value.strip()


class LineageClient:
    """A served model's connection to the lineage REST API (``base_url``: where the provider's API is
    mounted, e.g. ``http://airflow:8080/lineage``; ``token``: an Airflow API token)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 5.0,
        cache_seconds: float = 300.0,
        retry_after: float = 30.0,
    ) -> None:
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._headers: dict[tuple[str, str, str, str], tuple[float, dict[str, str]]] = {}
        self._traces: dict[tuple[str, str, str, str], str] = {}

    # -- HTTP -------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        url = f"{self.base_url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read()[:300].decode("utf-8", "replace")
            raise LineageUnavailableError(f"{method} {url} answered {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise LineageUnavailableError(f"{method} {url} failed: {exc}") from exc
        return json.loads(text) if text else None

    # -- headers ----------------------------------------------------------------------------------
    def trace_id(
        self, model: str, version: str, *, target: str = "default", environment: str = "prod"
    ) -> str:
        """The trace id of this process's serving of ``model`` ``version`` on ``target``: the run id
        its predictions are recorded under."""
        key = (*_model_uri(model), _text(version, "version"), f"{_text(environment, 'environment')}/{target}")
        with self._lock:
            return self._traces.setdefault(key, str(uuid.uuid4()))

    def lineage_headers(
        self, model: str, version: str, *, target: str = "default", environment: str = "prod"
    ) -> dict[str, str]:
        """Response headers naming the model version, its training data versions, whether it is
        reproducible, and the trace id (cached ``cache_seconds``; see the module docstring)."""
        namespace, name = _model_uri(model)
        trace = self.trace_id(model, version, target=_text(target, "target"), environment=environment)
        key = (namespace, name, version, f"{environment}/{target}")
        now = time.monotonic()
        with self._lock:
            cached = self._headers.get(key)
        if cached is not None and cached[0] > now:
            return dict(cached[1])
        node = f"dataset:{namespace}:{name}"
        headers = {"X-Model-Version": f"{node}@{version}", "X-Lineage-Trace-Id": trace}
        try:
            found = self._call("GET", "ml/provenance", nodeId=node, version=version)
            checked = self._call("GET", "ml/reproducible", nodeId=node, version=version)
        except LineageUnavailableError:
            headers.update({"X-Dataset-Version": "", "X-Reproducible": "unknown"})
            until = now + self.retry_after
        else:
            headers["X-Dataset-Version"] = ", ".join(_training_data(found))
            headers["X-Reproducible"] = "true" if checked.get("reproducible") else "false"
            until = now + self.cache_seconds
        with self._lock:
            self._headers[key] = (until, headers)
        return dict(headers)

    # -- predictions ------------------------------------------------------------------------------
    def log_predictions(
        self,
        model: str,
        version: str,
        records: Iterable[Mapping[str, Any]],
        *,
        target: str = "default",
        environment: str = "prod",
    ) -> str:
        """Post prediction records under the trace id of ``model`` ``version`` on ``target``; returns it.

        Each record is a mapping with ``input`` (hashed here, never sent) or ``inputHash``, and
        optionally ``prediction`` (JSON), ``requestId`` and ``predictedAt``."""
        namespace, name = _model_uri(model)
        target, environment = _text(target, "target"), _text(environment, "environment")
        trace = self.trace_id(model, version, target=target, environment=environment)
        checked = [_record(r, i) for i, r in enumerate(records)]
        ref = {"namespace": namespace, "name": name, "version": version}
        events = [
            prediction_event(trace, ref, target, environment, checked[start : start + BATCH])
            for start in range(0, len(checked), BATCH)
        ]
        if events:
            self._call("POST", "lineage/batch", events)
        return trace


def prediction_event(
    trace: str,
    model: dict[str, Any],
    target: str,
    environment: str,
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    """One batch of predictions as an OpenLineage event: the serving run ``trace`` reads the model
    version (``model``: namespace, name, version) and its deployment, and writes a version of the
    predictions dataset."""
    where = f"{environment}/{target}"
    return {
        "eventType": "OTHER",
        "eventTime": datetime.now(timezone.utc).isoformat(),
        "producer": facets.PRODUCER,
        "schemaURL": facets.RUN_EVENT_SCHEMA,
        "run": {"runId": trace, "facets": {}},
        "job": {"namespace": SERVING_NAMESPACE, "name": f"{environment}.{target}", "facets": {}},
        "inputs": [
            {
                "namespace": model["namespace"],
                "name": model["name"],
                "facets": {"version": facets.dataset_version(model["version"])},
            },
            {"namespace": DEPLOYMENTS_NAMESPACE, "name": where, "facets": {}},
        ],
        "outputs": [
            {
                "namespace": PREDICTIONS_NAMESPACE,
                "name": where,
                "facets": {
                    "datasetType": facets.dataset_type("PREDICTIONS"),
                    "version": facets.dataset_version(str(uuid.uuid4())),  # each batch a version
                    mlfacets.PREDICTIONS: mlfacets.predictions(model, target, environment, records),
                },
            }
        ],
    }


def _record(record: Any, index: int) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise ValueError(f"prediction record {index} must be a mapping, not {type(record).__name__}")
    if "input" in record:
        digest = input_hash(record["input"])
    elif isinstance(record.get("inputHash"), str) and record["inputHash"]:
        digest = record["inputHash"]
    else:
        raise ValueError(f"prediction record {index} needs 'input' (hashed here, never sent) or 'inputHash'")
    found: dict[str, Any] = {"inputHash": digest}
    for key in ("prediction", "requestId", "predictedAt"):
        if record.get(key) is not None:
            found[key] = record[key]
    found.setdefault("predictedAt", datetime.now(timezone.utc).isoformat())
    try:
        json.dumps(found, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"prediction record {index}: its prediction must be JSON ({exc})") from None
    return found


def _training_data(provenance: Any) -> list[str]:
    """``node@version`` of what the run that trained the model version read."""
    steps = provenance.get("steps") or [] if isinstance(provenance, dict) else []
    first = steps[0] if steps else {}
    return [f"{i.get('id')}@{i.get('version')}" for i in first.get("inputs") or [] if i.get("version")]


_default: LineageClient | None = None


def _client() -> LineageClient:
    """The client of ``AIRFLOW_LINEAGE_URL`` and ``AIRFLOW_LINEAGE_TOKEN``."""
    global _default
    if _default is None:
        import os

        url = os.environ.get("AIRFLOW_LINEAGE_URL")
        if not url:
            raise ValueError(
                "set AIRFLOW_LINEAGE_URL (e.g. http://airflow:8080/lineage) or use LineageClient"
            )
        _default = LineageClient(url, os.environ.get("AIRFLOW_LINEAGE_TOKEN"))
    return _default


def lineage_headers(model: str, version: str, **options: Any) -> dict[str, str]:
    """:meth:`LineageClient.lineage_headers` of the client configured by the environment."""
    return _client().lineage_headers(model, version, **options)


def log_predictions(model: str, version: str, records: Iterable[Mapping[str, Any]], **options: Any) -> str:
    """:meth:`LineageClient.log_predictions` of the client configured by the environment."""
    return _client().log_predictions(model, version, records, **options)

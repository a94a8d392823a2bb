"""The SDK calls (see the package docstring): argument checks, then one update of the pending record."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_lineage_provider.capture import facets, mlfacets, pending
from airflow_lineage_provider.capture.lineage import DatasetEntry
from airflow_lineage_provider.core.naming import dataset_from_uri
from airflow_lineage_provider.exceptions import LineageError

log = logging.getLogger("airflow_lineage_provider.ml")

MAX_SEED = 2**32 - 1  # NumPy's legacy seeding accepts 0 .. 2**32 - 1
METRICS_NAMESPACE = "ml-metrics"
DEPLOYMENTS_NAMESPACE = "ml-deployments"


class MLArgumentError(LineageError, ValueError):
    """An ML SDK call got an argument it cannot record."""


@dataclass(frozen=True)
class Logged:
    """A dataset or model logged by the SDK: pass it as ``model=`` / ``dataset=`` of ``log_metrics``."""

    namespace: str
    name: str
    version: str | None = None

    @property
    def node_id(self) -> str:
        return f"dataset:{self.namespace}:{self.name}"

    def reference(self) -> dict[str, Any]:
        ref = {"namespace": self.namespace, "name": self.name}
        return ref if self.version is None else {**ref, "version": self.version}


def _text(value: Any, what: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MLArgumentError(f"{what} must be a non-empty string, not {value!r}")
    return value.strip()


def _uri(uri: Any, what: str = "uri") -> tuple[str, str]:
    text = _text(uri, what, required=True)
    assert text is not None
    namespace, name = dataset_from_uri(text)
    if "://" not in text:
        raise MLArgumentError(
            f"{what} must be a URI with a scheme (file:///abs/path, s3://bucket/key), not {uri!r}"
        )
    return namespace, name


def _ref(value: Any, what: str) -> Logged | None:
    if value is None or isinstance(value, Logged):
        return value
    if isinstance(value, str):
        return Logged(*_uri(value, what))
    raise MLArgumentError(f"{what} must be a URI or what log_dataset/log_model returned, not {value!r}")


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise MLArgumentError(f"{what} must be a mapping with string keys, not {value!r}")
    return {k: _json_value(v, f"{what}[{k!r}]") for k, v in value.items()}


def _json_value(value: Any, what: str) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MLArgumentError(f"{what} must be a finite number, not {value!r}")
        return value
    if isinstance(value, (list, tuple)):
        return [_json_value(v, f"{what}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return _mapping(value, what)
    if hasattr(value, "item") and callable(value.item):  # NumPy scalars
        return _json_value(value.item(), what)
    raise MLArgumentError(
        f"{what} must be JSON (str, number, bool, list, mapping), not {type(value).__name__}"
    )


def _running_key() -> str | None:
    """The run id of the task attempt running in this thread, or None outside a task."""
    try:
        from airflow.sdk import get_current_context

        context = get_current_context()
    except (ImportError, RuntimeError):
        return None
    task_instance = context.get("ti")
    return None if task_instance is None else pending.run_key(task_instance)


def _record(what: str, change: Any) -> bool:
    key = _running_key()
    if key is None:
        log.debug("lineage: ml.%s outside a running Airflow task: nothing recorded", what)
        return False
    pending.update(key, change)
    return True


def _entry(namespace: str, name: str, version: str | None, extra: dict[str, Any]) -> DatasetEntry:
    entry_facets: dict[str, Any] = dict(extra)
    if version is not None:
        entry_facets["version"] = facets.dataset_version(version)
    return DatasetEntry(namespace, name, entry_facets)


def _put(target: dict[tuple[str, str], DatasetEntry], entry: DatasetEntry) -> None:
    """Later SDK calls win over earlier ones for the same dataset."""
    key = (entry.namespace, entry.name)
    if key in target:
        entry.merge(target[key])
    target[key] = entry


def log_dataset(
    uri: str, *, name: str | None = None, version: str | None = None, query: str | None = None
) -> Logged:
    """Record ``uri`` as an input of the running task (``version``: the exact version read)."""
    namespace, dataset_name = _uri(uri)
    label, version, query = _text(name, "name"), _text(version, "version"), _text(query, "query")
    entry = _entry(namespace, dataset_name, version, {})
    if label is not None or query is not None:
        entry.io_facets[mlfacets.INPUT] = mlfacets.read_input(label, query)

    def change(record: pending.Pending) -> None:
        _put(record.inputs, entry)
        if query is not None:
            record.job_facets["sql"] = facets.sql(query, None)

    _record("log_dataset", change)
    return Logged(namespace, dataset_name, version)


def log_model(
    uri: str,
    *,
    name: str | None = None,
    version: str | None = None,
    framework: str | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Logged:
    """Record a trained model at ``uri`` as an output of the running task, typed ``MODEL``."""
    namespace, dataset_name = _uri(uri)
    label, version, framework = _text(name, "name"), _text(version, "version"), _text(framework, "framework")
    params = _mapping(hyperparameters, "hyperparameters")
    tags = _mapping(labels, "labels")
    if not all(isinstance(v, str) for v in tags.values()):
        raise MLArgumentError(f"labels must map strings to strings, not {labels!r}")
    entry = _entry(
        namespace,
        dataset_name,
        version,
        {
            "datasetType": facets.dataset_type("MODEL"),
            mlfacets.MODEL: mlfacets.model(label, version, framework, params, tags),
        },
    )
    _record("log_model", lambda record: _put(record.outputs, entry))
    return Logged(namespace, dataset_name, version)


def log_metrics(
    values: Mapping[str, float],
    *,
    model: Logged | str | None = None,
    dataset: Logged | str | None = None,
    uri: str | None = None,
) -> Logged:
    """Record metric ``values`` (of ``model``, measured on ``dataset``) as an output typed ``METRICS``.

    The metrics dataset is ``uri`` when given, else ``<model>.metrics`` beside the model, else
    ``ml-metrics:<dag_id>.<task_id>``. ``dataset`` is also recorded as an input of the task.
    """
    if not isinstance(values, Mapping) or not values:
        raise MLArgumentError(f"values must be a non-empty mapping of metric name to number, not {values!r}")
    checked: dict[str, float] = {}
    for key, value in values.items():
        number = value.item() if hasattr(value, "item") and callable(value.item) else value
        if not isinstance(key, str) or isinstance(number, bool) or not isinstance(number, (int, float)):
            raise MLArgumentError(f"metric {key!r} must be a number named by a string, not {value!r}")
        if not math.isfinite(number):
            raise MLArgumentError(f"metric {key!r} must be a finite number, not {value!r}")
        checked[key] = number
    model_ref, dataset_ref = _ref(model, "model"), _ref(dataset, "dataset")
    if uri is not None:
        namespace, name = _uri(uri)
    elif model_ref is not None:
        namespace, name = model_ref.namespace, model_ref.name + ".metrics"
    else:
        namespace, name = METRICS_NAMESPACE, _task_name()

    def change(record: pending.Pending) -> None:
        key = (namespace, name)
        earlier = record.outputs.get(key)
        before = (earlier.facets.get(mlfacets.METRICS) or {}).get("values", {}) if earlier else {}
        facet = mlfacets.metrics(
            {**before, **checked},
            model_ref.reference() if model_ref else None,
            dataset_ref.reference() if dataset_ref else None,
        )
        _put(
            record.outputs,
            DatasetEntry(
                namespace, name, {"datasetType": facets.dataset_type("METRICS"), mlfacets.METRICS: facet}
            ),
        )
        if dataset_ref is not None and (dataset_ref.namespace, dataset_ref.name) not in record.outputs:
            _put(record.inputs, _entry(dataset_ref.namespace, dataset_ref.name, dataset_ref.version, {}))

    _record("log_metrics", change)
    return Logged(namespace, name)


def log_deployment(
    model: Logged | str,
    *,
    target: str,
    environment: str = "prod",
    traffic: float = 1.0,
    version: str | None = None,
    deployed_by: str | None = None,
) -> Logged:
    """Record that the running task deployed ``model`` (at ``version``) to ``target``.

    The deployment is a dataset typed ``DEPLOYMENT`` (``ml-deployments:<environment>/<target>``),
    written by this task, which reads the model version: so it is downstream of that version, and each
    deploying run is a version of the deployment with its ``traffic`` (0 to 1). ``deployed_by``
    defaults to the user who triggered the DAG run, else the task's owner.
    """
    model_ref = _ref(model, "model")
    if model_ref is None:
        raise MLArgumentError("model must be a URI or what log_model returned, not None")
    chosen = _text(version, "version") or model_ref.version
    if chosen is None:
        raise MLArgumentError(
            f"the version of model {model_ref.node_id} is needed: pass version=, or what "
            "log_model(..., version=...) returned"
        )
    target_name = _text(target, "target", required=True)
    env = _text(environment, "environment", required=True)
    if isinstance(traffic, bool) or not isinstance(traffic, (int, float)) or not 0 <= traffic <= 1:
        raise MLArgumentError(f"traffic must be a share from 0 to 1, not {traffic!r}")
    by = _text(deployed_by, "deployed_by") or _deployer()
    model_ref = Logged(model_ref.namespace, model_ref.name, chosen)
    name = f"{env}/{target_name}"
    at = datetime.now(timezone.utc).isoformat()
    facet = mlfacets.deployment(model_ref.reference(), str(target_name), str(env), float(traffic), by, at)
    entry = DatasetEntry(
        DEPLOYMENTS_NAMESPACE,
        name,
        {"datasetType": facets.dataset_type("DEPLOYMENT"), mlfacets.DEPLOYMENT: facet},
    )

    def change(record: pending.Pending) -> None:
        _put(record.outputs, entry)
        _put(record.inputs, _entry(model_ref.namespace, model_ref.name, chosen, {}))

    _record("log_deployment", change)
    return Logged(DEPLOYMENTS_NAMESPACE, name)


def _deployer() -> str | None:
    """The user who triggered the running DAG run, else the task's owner (None outside a task)."""
    try:
        from airflow.sdk import get_current_context

        context = get_current_context()
    except (ImportError, RuntimeError):
        return None
    user = getattr(context.get("dag_run"), "triggering_user_name", None)
    if isinstance(user, str) and user:
        return user
    owner = getattr(getattr(context.get("ti"), "task", None), "owner", None)
    return owner if isinstance(owner, str) and owner else None


def _task_name() -> str:
    try:
        from airflow.sdk import get_current_context

        task_instance = get_current_context()["ti"]
        return f"{task_instance.dag_id}.{task_instance.task_id}"
    except (ImportError, RuntimeError, KeyError):
        return "outside-a-task"


def set_seed(seed: int) -> list[str]:
    """Seed Python's ``random``, and NumPy and PyTorch when they are installed; record the seed.

    Returns the libraries seeded.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise MLArgumentError(f"seed must be an integer from 0 to {MAX_SEED}, not {seed!r}")
    random.seed(seed)
    seeded = ["random"]
    for module, call in (("numpy", "random.seed"), ("torch", "manual_seed")):
        if importlib.util.find_spec(module) is None:
            continue
        target: Any = importlib.import_module(module)
        for part in call.split("."):
            target = getattr(target, part)
        target(seed)
        seeded.append(module)
    _record("set_seed", lambda record: record.seeds.append({"seed": seed, "libraries": seeded}))
    return seeded

"""The reproducibility record of a task attempt, attached to every event the task process sends.

Code (the DAG file's hash, the DAG version id Airflow gives, the git commit, dirty flag and diff hash
of the repository holding the DAG file), environment (Python, the installed distributions and their
hash, the ``IMAGE_DIGEST`` env var), hardware, the task's params and the seeds the task declared.
Exact input versions are not repeated here: the store records the version of each input read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from airflow_lineage_provider.capture import machine, mlfacets

IMAGE_DIGEST_ENV = "IMAGE_DIGEST"
MAX_PARAMS_BYTES = 64 * 1024


def _dropping_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


def code(task_instance: Any) -> dict[str, Any]:
    """Where the task's code comes from (git: the repository and its commit; whether the tree is
    dirty is added where the event is delivered, see :mod:`airflow_lineage_provider.core.gitstate`)."""
    task = getattr(task_instance, "task", None)
    dag = getattr(task, "dag", None)
    fileloc = getattr(dag, "fileloc", None)
    version_id = getattr(task_instance, "dag_version_id", None)
    bundle = getattr(task_instance, "bundle_instance", None)
    return _dropping_none(
        {
            "dagFile": fileloc,
            "dagFileHash": machine.file_hash(fileloc),
            "dagVersionId": str(version_id) if version_id else None,
            "bundleName": getattr(bundle, "name", None),
            "bundleVersion": getattr(bundle, "version", None),
            "git": machine.git(fileloc),
        }
    )


def params(context: Mapping[str, Any]) -> dict[str, Any]:
    """The task's params (from its template context) as JSON (values that are not JSON become
    text); too large: left out."""
    found = context.get("params") or {}
    plain = {str(key): found[key] for key in found}
    text = json.dumps(plain, default=str, sort_keys=True)
    if len(text) > MAX_PARAMS_BYTES:
        return {"_omitted": f"params are {len(text)} bytes, over {MAX_PARAMS_BYTES}"}
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class _Probed:
    """What was probed for one attempt: everything in its record but the seeds."""

    __slots__ = ("attempt", "code", "environment", "hardware", "params")

    def __init__(self, attempt: tuple[Any, ...], task_instance: Any, context: Mapping[str, Any]) -> None:
        self.attempt = attempt
        self.code = code(task_instance)
        listed = machine.distributions()
        environment = {
            **machine.environment(listed),
            "distributions": list(listed),  # the store keeps it once per hash
            "imageDigest": os.environ.get(IMAGE_DIGEST_ENV) or None,
        }
        self.environment = _dropping_none(environment)
        self.hardware = machine.hardware()
        self.params = params(context)


_last: _Probed | None = None  # the attempt probed last (a task process runs one; dag.test() one at a time)


def _attempt(task_instance: Any) -> tuple[Any, ...]:
    names = ("dag_id", "run_id", "task_id", "map_index", "try_number")
    return (id(task_instance), *(getattr(task_instance, name, None) for name in names))


def facet(task_instance: Any, seeds: list[dict[str, Any]], context: Mapping[str, Any]) -> dict[str, Any]:
    """The ``airflowLineage_reproducibility`` facet of one task attempt (``context``: its template
    context). The attempt is probed once, at its first event: its later events describe the code,
    environment and params it started with (and carry the seeds it logged meanwhile)."""
    global _last
    attempt = _attempt(task_instance)
    probed = _last
    if probed is None or probed.attempt != attempt:
        probed = _last = _Probed(attempt, task_instance, context)
    return mlfacets.reproducibility(probed.code, probed.environment, probed.hardware, probed.params, seeds)

"""Fingerprint facets of the files, objects and tables a task reads (at START) and writes (at COMPLETE).

When the bytes are known to be the ones used: an input before the task reads it, an output after
the task wrote it. An input known only at COMPLETE (logged through the ML SDK, or read by a hook's
SQL) is fingerprinted then, unless the task also wrote it (then it counts as its output). What is
taken is bounded:

* by time: ``[lineage_provider] fingerprint_timeout`` for the whole event, and never past the
  capture budget; a dataset not fingerprinted in time gets no facet and an extraction error;
* by size: a file over ``fingerprint_max_bytes`` is sampled
  (:mod:`airflow_lineage_provider.core.fingerprints`);
* by reach: an object store is asked only when the task already loaded its fsspec filesystem.

A dataset that is not there (an inlet not yet written) or has no fingerprint here gets no facet; an
unreadable one (permission denied, a spent time limit) an extraction error. Nothing reaches the task.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from airflow_lineage_provider import conf
from airflow_lineage_provider.capture.boundary import never_raise
from airflow_lineage_provider.capture.facets import ours
from airflow_lineage_provider.capture.lineage import DatasetEntry, Lineage
from airflow_lineage_provider.core import fingerprints
from airflow_lineage_provider.emit.budget import budget_deadline

SCHEMA_FILE_NAME = "AirflowLineageFingerprintDatasetFacet.json"
FACET = fingerprints.FACET
_TABLES = ("sqlite://",)


def facet(fingerprint: dict[str, Any]) -> dict[str, Any]:
    """``airflowLineage_fingerprint``: algorithm, digest, size, mtime, sampled, approximate, rows."""
    return ours("AirflowLineageFingerprintDatasetFacet", SCHEMA_FILE_NAME, **fingerprint)


def _wanted(entry: DatasetEntry) -> bool:
    namespace = entry.namespace
    if FACET in entry.facets:
        return False
    if namespace == "file" or namespace.startswith(_TABLES):
        return True
    protocol, sep, _ = namespace.partition("://")
    # an object store the task itself used: its filesystem is loaded (and has its credentials)
    fsspec = sys.modules.get("fsspec")
    return bool(sep) and fsspec is not None and protocol in getattr(fsspec, "registry", {})


def _deadline() -> float:
    limit = time.monotonic() + conf.fingerprint_timeout()
    budget = budget_deadline()
    return limit if budget is None else min(limit, budget)


# The inputs the START event of the attempt in progress fingerprinted (or tried to): a task process
# runs one attempt, dag.test() one at a time.
_started: tuple[str | None, set[tuple[str, str]]] = (None, set())


def add_fingerprints(lineage: Lineage, event_type: str, attempt: str | None = None) -> None:
    """Add fingerprint facets for ``event_type`` of the task attempt ``attempt`` (its run id): inputs at
    START; at COMPLETE, outputs and the inputs only known then (ML SDK records, SQL), not written."""
    global _started
    if event_type == "START":
        chosen = list(lineage.inputs.values())
        _started = (attempt, set(lineage.inputs))
    elif event_type == "COMPLETE":
        tried = _started[1] if _started[0] == attempt else set()
        late = [e for k, e in lineage.inputs.items() if k not in tried and k not in lineage.outputs]
        chosen = [*lineage.outputs.values(), *late]
    else:
        return
    chosen = [entry for entry in chosen if _wanted(entry)]
    if not chosen or conf.fingerprint_timeout() <= 0:
        return
    deadline, max_bytes = _deadline(), conf.fingerprint_max_bytes()
    for entry in chosen:
        what = f"fingerprint of {entry.namespace}/{entry.name}"
        with never_raise(what, on_error=lineage.failed(what)):
            try:
                found = fingerprints.measure(entry.namespace, entry.name, max_bytes, deadline)
            except fingerprints.NotCheckableError:  # not there yet, or nothing to take here: no facet
                continue
            entry.facets[FACET] = facet(found)

"""Fingerprints as the store keeps them: what each dataset version was written as, what each run read.

Both come from the ``airflowLineage_fingerprint`` dataset facet
(:mod:`airflow_lineage_provider.core.fingerprints`): a written version's is one of the version's facets
(``lineage_dataset_versions.facets``, kept from the producer's COMPLETE event); what a run read is on
the input in the run's own events (its START event first), read from the raw event log.

* **unchanged**: a version whose fingerprint equals the previous version's;
* **changed before read**: a run read a version whose fingerprint differs from the one its producer
  wrote — someone changed the data between the two tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core.fingerprints import FACET, same
from airflow_lineage_provider.store import tables as t

_ORDER = {"START": 0, "RUNNING": 1, "COMPLETE": 2}


def of_facets(facets: dict[str, Any] | None) -> dict[str, Any] | None:
    """The fingerprint in a dataset's facets, without the facet's ``_producer`` and ``_schemaURL``."""
    found = (facets or {}).get(FACET)
    if not isinstance(found, dict) or not found.get("digest"):
        return None
    return {k: v for k, v in found.items() if not k.startswith("_")}


def written(conn: Connection, dataset_pk: int, version: str | None) -> dict[str, Any] | None:
    """The fingerprint a version was written with (None: not recorded)."""
    if version is None:
        return None
    found = conn.execute(
        select(t.DatasetVersion.facets).where(
            t.DatasetVersion.dataset_id == dataset_pk, t.DatasetVersion.version == version
        )
    ).scalar()
    return of_facets(found)


class Reads:
    """What runs recorded on their inputs, loaded once for a set of runs (one query for their events).

    ``get(run_id, dataset_pk)`` is :func:`read` for one of them."""

    def __init__(self, conn: Connection, run_ids: Sequence[str]) -> None:
        self._conn = conn
        self._found: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._names: dict[int, tuple[str, str]] = {}
        rows = conn.execute(
            select(t.Event.run_id, t.Event.event_type, t.Event.payload).where(
                t.Event.run_id.in_(sorted(set(run_ids))), t.Event.kind == "run"
            )
        ).all()
        for row in sorted(rows, key=lambda e: _ORDER.get(str(e.event_type), 3), reverse=True):
            for ds in (row.payload or {}).get("inputs") or []:
                found = of_facets(ds.get("facets")) if isinstance(ds, dict) else None
                if found is not None:  # the earliest event's wins: it is written last
                    self._found[(str(row.run_id), str(ds.get("namespace")), str(ds.get("name")))] = found

    def get(self, run_id: str, dataset_pk: int) -> dict[str, Any] | None:
        if dataset_pk not in self._names:
            row = self._conn.execute(
                select(t.Node.namespace, t.Node.name).where(t.Node.id == dataset_pk)
            ).one()
            self._names[dataset_pk] = (str(row.namespace), str(row.name))
        return self._found.get((run_id, *self._names[dataset_pk]))


def read(conn: Connection, run_id: str, dataset_pk: int) -> dict[str, Any] | None:
    """The fingerprint a run recorded on one of its inputs (its earliest event that has one)."""
    return Reads(conn, [run_id]).get(run_id, dataset_pk)


def mark_input(
    conn: Connection,
    item: dict[str, Any],
    dataset_pk: int,
    run_id: str,
    version: str | None,
    reads: Reads | None = None,
) -> None:
    """Add to a provenance input what the run read and, when it differs from what was written of
    ``version`` (the version it read, or the one its label stood for), ``changedBeforeRead``
    (``reads``: the runs' reads loaded at once)."""
    seen = (reads or Reads(conn, [run_id])).get(run_id, dataset_pk)
    if seen is None:
        return
    item["fingerprint"] = seen
    recorded = written(conn, dataset_pk, version)
    if same(recorded, seen) is False:
        item["changedBeforeRead"] = True
        item["writtenFingerprint"] = recorded


def version_marks(
    conn: Connection, dataset_pk: int, rows: Sequence[Any], shown: Callable[[str], bool] = lambda _: True
) -> dict[str, dict[str, Any]]:
    """For each version row: its fingerprint, whether it is ``unchanged`` from the version before it,
    and the runs (that ``shown`` lets the reader see) that read it ``changedBeforeRead``."""
    marks: dict[str, dict[str, Any]] = {}
    for row in rows:
        fingerprint = of_facets(row.facets)
        previous = conn.execute(
            select(t.DatasetVersion.facets)
            .where(t.DatasetVersion.dataset_id == dataset_pk)
            .where(
                (t.DatasetVersion.created_at < row.created_at)
                | ((t.DatasetVersion.created_at == row.created_at) & (t.DatasetVersion.id < row.id))
            )
            .order_by(t.DatasetVersion.created_at.desc(), t.DatasetVersion.id.desc())
            .limit(1)
        ).scalar()
        unchanged = same(of_facets(previous), fingerprint) if previous is not None else None
        readers = conn.execute(
            select(t.RunIO.run_id).where(
                t.RunIO.dataset_id == dataset_pk, t.RunIO.direction == "input", t.RunIO.version == row.version
            )
        ).scalars()
        changed = (
            sorted(r for r in readers if shown(r) and same(fingerprint, read(conn, r, dataset_pk)) is False)
            if fingerprint is not None
            else []
        )
        marks[row.version] = {
            "fingerprint": fingerprint,
            "unchanged": unchanged,
            "changedBeforeRead": changed,
        }
    return marks

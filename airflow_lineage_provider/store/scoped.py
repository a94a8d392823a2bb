"""A dataset as one reader sees it: facets, fields and current version from the runs they may read.

A node's stored facets and current version merge what every writer wrote. For a reader of every DAG
that is the answer. For anyone else it is rebuilt from the dataset versions written by runs they may
read (:func:`.visibility.run_condition`), merged in time order as ingest merges them (for each facet,
the latest visible writer's); ``restricted`` says that something stored about the dataset (a version,
a facet, column lineage) came from a run they may not read, so they see less than is stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, not_, select

from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.visibility import Scope, run_condition

_CHUNK = 1000


@dataclass(frozen=True)
class DatasetView:
    facets: dict[str, Any] = field(default_factory=dict)
    version: str | None = None
    version_time: datetime | None = None
    restricted: bool = False

    @property
    def schema_fields(self) -> list[Any]:
        found = (self.facets.get("schema") or {}).get("fields") if isinstance(self.facets, dict) else None
        return [f for f in found or [] if isinstance(f, dict)]


def _whole(row: Any) -> DatasetView:
    return DatasetView(row.facets or {}, row.current_version, row.current_version_time, False)


def _hidden(conn: Connection, scope: Scope, pks: list[int]) -> set[int]:
    """Datasets with a version or column lineage written by a run the reader may not see."""
    dv, cl = t.DatasetVersion, t.ColumnLineage
    found: set[int] = set()
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        for query in (
            select(dv.dataset_id).where(dv.dataset_id.in_(chunk), not_(run_condition(dv.run_id, scope))),
            select(cl.output_dataset_id).where(
                cl.output_dataset_id.in_(chunk), not_(run_condition(cl.run_id, scope))
            ),
        ):
            found.update(int(pk) for pk in conn.execute(query.distinct()).scalars())
    return found


def dataset_views(conn: Connection, scope: Scope, rows: Iterable[Any]) -> dict[int, DatasetView]:
    """The view of each dataset row (``lineage_nodes`` rows with facets and current version)."""
    rows = list(rows)
    if scope.unrestricted:
        return {r.id: _whole(r) for r in rows}
    pks = sorted({r.id for r in rows})
    merged: dict[int, dict[str, Any]] = {pk: {} for pk in pks}
    latest: dict[int, tuple[str, datetime]] = {}
    dv = t.DatasetVersion
    for start in range(0, len(pks), _CHUNK):
        query = (
            select(dv.dataset_id, dv.version, dv.created_at, dv.facets)
            .where(dv.dataset_id.in_(pks[start : start + _CHUNK]), run_condition(dv.run_id, scope))
            .order_by(dv.dataset_id, dv.created_at, dv.id)
        )
        for r in conn.execute(query):
            merged[r.dataset_id].update(r.facets or {})
            latest[r.dataset_id] = (r.version, r.created_at)
    hidden = _hidden(conn, scope, pks)
    views = {}
    for row in rows:
        facets = merged[row.id]
        version, when = latest.get(row.id, (None, None))
        restricted = row.id in hidden or facets != (row.facets or {})
        views[row.id] = DatasetView(facets, version, when, restricted)
    return views

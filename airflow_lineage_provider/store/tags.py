"""Tags (``tags`` facets of datasets and jobs, TagsDatasetFacet with field-level tags), made searchable.

The latest ``tags`` facet of a node replaces the tags it had; each row keeps the run that reported it,
so a restricted reader's search matches only tags from runs they may read
(:func:`.visibility.run_condition`; tags from dataset events only for readers of every DAG).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, exists, or_, select

from airflow_lineage_provider.core import facetviews
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.upserts import bulk, insert
from airflow_lineage_provider.store.visibility import Scope, run_condition


@dataclass
class Tags:
    """The latest tags facet of each node of one batch: node id -> (time, run id, tags)."""

    latest: dict[int, tuple[datetime, str | None, list[dict[str, Any]]]] = field(default_factory=dict)

    def add(self, node_id: int, facets: dict[str, Any] | None, run_id: str | None, when: datetime) -> None:
        if not isinstance((facets or {}).get("tags"), dict):
            return
        old = self.latest.get(node_id)
        if old is None or when >= old[0]:
            self.latest[node_id] = (when, run_id, facetviews.tags(facets))

    def flush(self, conn: Connection) -> None:
        rows: dict[tuple[int, str, str], dict[str, Any]] = {}
        for node_id, (when, run_id, found) in sorted(self.latest.items()):
            conn.execute(delete(t.Tag).where(t.Tag.node_id == node_id, t.Tag.event_time <= when))
            for tag in found:
                key = (node_id, str(tag.get("field") or "")[:512], str(tag["key"])[:256])
                rows[key] = {
                    "node_id": node_id,
                    "field": key[1],
                    "key": key[2],
                    "value": None if tag.get("value") is None else str(tag["value"]),
                    "source": tag.get("source"),
                    "run_id": run_id,
                    "event_time": when,
                }
        bulk(conn, "tags.new", _new, list(rows.values()))


def _new(conn: Connection) -> Any:
    return insert(conn, t.Tag).on_conflict_do_nothing(index_elements=["node_id", "field", "key"])


def matching(node: Any, needle: str, scope: Scope | None = None) -> ColumnElement[bool]:
    """SQL condition on a node alias: one of its tags' key or value contains ``needle`` (any case)."""
    tag = t.Tag
    found = select(tag.node_id).where(
        tag.node_id == node.id,
        or_(tag.key.icontains(needle, autoescape=True), tag.value.icontains(needle, autoescape=True)),
    )
    if scope is not None and not scope.unrestricted:
        found = found.where(run_condition(tag.run_id, scope))
    return exists(found)

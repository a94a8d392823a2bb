"""Data quality assertions (``dataQualityAssertions``, DataQualityAssertionsDatasetFacet 1-1-0).

A run reports assertions on a dataset it read (an input facet, as Airflow's common-sql check
operators report them through the official OpenLineage provider) or wrote (a dataset facet). Each
(run, dataset) keeps its latest report, with the dataset version the run read or wrote. A dataset's
*assertion state* is the latest report on its current version (any report when it has no version):
``failing`` counts assertions with ``success: false``. A restricted reader sees only reports of
runs they may read (:func:`.visibility.run_condition`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.facetviews import obj, objects
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store import visibility
from airflow_lineage_provider.store.upserts import bulk, insert
from airflow_lineage_provider.store.visibility import Scope, run_condition

_CHUNK = 1000
FACET = "dataQualityAssertions"


def reported(ds: dict[str, Any], run_facets: dict[str, Any] | None = None) -> list[dict[str, Any]] | None:
    """The assertions of one input or output dataset of an event (None when it reports none).

    Besides ``dataQualityAssertions``, a run's test results (TestRunFacet ``test``) that name this
    table (``params.tested_table``, matched as the official provider matches it: the whole name or
    its last dotted part) count as its assertions: common-sql's check operators report there when
    their own lineage has no dataset for the table (SQLite, for one)."""
    for key in ("inputFacets", "facets"):
        facet = (ds.get(key) or {}).get(FACET)
        if isinstance(facet, dict) and isinstance(facet.get("assertions"), list):
            return objects(facet["assertions"])
    tests = obj((run_facets or {}).get("test")).get("tests")
    if not tests:  # most runs report no tests: nothing to match against the dataset's name
        return None
    name = str(ds.get("name") or "").lower()
    found = [
        _from_test(test)
        for test in objects(tests)
        if test.get("status") in ("pass", "fail")
        and _names(name, obj(test.get("params")).get("tested_table"))
    ]
    return found or None


def _names(name: str, table: Any) -> bool:
    table = str(table or "").lower()
    return bool(table) and (name == table or name.endswith("." + table))


def _from_test(test: dict[str, Any]) -> dict[str, Any]:
    """A TestRunFacet test execution as a DataQualityAssertions assertion."""
    column = obj(test.get("params")).get("tested_column")
    found: dict[str, Any] = {
        "assertion": test.get("type") or test.get("name") or "test",
        "success": test.get("status") == "pass",
        "column": column,
    }
    found.update({k: test[k] for k in ("name", "severity", "description", "expected", "actual") if k in test})
    return {k: v for k, v in found.items() if v is not None}


@dataclass
class Reports:
    """The latest report of each (run, dataset) of one batch, written with one upsert."""

    rows: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def add(
        self,
        run: dict[str, Any],
        dataset_id: int,
        ds: dict[str, Any],
        version: str | None,
        when: datetime,
    ) -> None:
        """What a run (its row: id and merged facets) reported on one dataset it read or wrote."""
        found = reported(ds, run.get("facets"))
        old = self.rows.get((run["run_id"], dataset_id))
        if found is None or (old is not None and when < old["event_time"]):
            return
        self.rows[(run["run_id"], dataset_id)] = {
            "run_id": run["run_id"],
            "dataset_id": dataset_id,
            "version": version,
            "assertions": found,
            "failing": sum(1 for a in found if a.get("success") is False),
            "event_time": when,
        }

    def flush(self, conn: Connection) -> None:
        bulk(conn, "assertions.upsert", _upsert, list(self.rows.values()))


def _upsert(conn: Connection) -> Any:
    stmt = insert(conn, t.Assertion)
    ex = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["run_id", "dataset_id"],
        set_={c: ex[c] for c in ("version", "assertions", "failing", "event_time")},
        where=ex.event_time >= t.Assertion.event_time,
    )


def _summary(r: Any) -> dict[str, Any]:
    return {
        "runId": r.run_id,
        "version": r.version,
        "time": iso(r.event_time),
        "failing": r.failing,
        "total": len(r.assertions or []),
        "assertions": r.assertions or [],
    }


def _visible(query: Any, scope: Scope | None) -> Any:
    if scope is None or scope.unrestricted:
        return query
    return query.where(run_condition(t.Assertion.run_id, scope))


def of_dataset(conn: Connection, dataset_pk: int, scope: Scope | None = None) -> list[dict[str, Any]]:
    """Every report on one dataset, newest first."""
    a = t.Assertion
    query = select(a).where(a.dataset_id == dataset_pk).order_by(a.event_time.desc(), a.run_id)
    return [_summary(r) for r in conn.execute(_visible(query, scope))]


def of_runs(conn: Connection, run_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The reports of each run (run id -> reports, by dataset node id); one query per 1,000 runs."""
    a, n = t.Assertion, t.Node
    wanted = sorted(set(run_ids))
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = (
            select(a, n.namespace, n.name)
            .join(n, n.id == a.dataset_id)
            .where(a.run_id.in_(wanted[start : start + _CHUNK]))
            .order_by(n.namespace, n.name)
        )
        for r in conn.execute(query):
            found.setdefault(r.run_id, []).append(
                {"dataset": f"dataset:{r.namespace}:{r.name}", **_summary(r)}
            )
    return found


def by_version(
    conn: Connection, dataset_pk: int, scope: Scope | None = None
) -> dict[str | None, list[dict[str, Any]]]:
    """The visible reports on one dataset, by the version they checked (newest first)."""
    found: dict[str | None, list[dict[str, Any]]] = {}
    for report in of_dataset(conn, dataset_pk, scope):
        found.setdefault(report["version"], []).append(report)
    return found


def states(
    conn: Connection, current: dict[int, str | None], scope: Scope | None = None
) -> dict[int, dict[str, Any]]:
    """The assertion state of each dataset (pk -> its current version): the latest visible report on
    that version (on any version when the dataset has none); datasets without one are left out."""
    a = t.Assertion
    pks = sorted(current)
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(pks), _CHUNK):
        query = select(a.dataset_id, a.version, a.failing, a.assertions, a.run_id, a.event_time).where(
            a.dataset_id.in_(pks[start : start + _CHUNK])
        )
        for r in conn.execute(_visible(query.order_by(a.event_time, a.run_id), scope)):
            version = current.get(r.dataset_id)
            if version is not None and r.version != version:
                continue
            found[r.dataset_id] = {
                "failing": r.failing,
                "total": len(r.assertions or []),
                "runId": r.run_id,
                "version": r.version,
            }
    return found


def mark_steps(conn: Connection, steps: list[dict[str, Any]], scope: Scope | None = None) -> None:
    """Mark the datasets of a version-exact answer's steps (:mod:`.provenance`) whose current version's
    latest visible report has failing assertions: ``failingAssertions`` on each input and output."""
    from airflow_lineage_provider.core.ids import parse
    from airflow_lineage_provider.store.graphstate import node_key
    from airflow_lineage_provider.store.scoped import dataset_views

    entries = [e for s in steps for side in ("inputs", "outputs") for e in s[side]]
    keys = {node_key("dataset", n.namespace, n.name): e["id"] for e in entries for n in [parse(e["id"])]}
    query = select(t.Node).where(t.Node.node_key.in_(bindparam("keys", expanding=True)))
    rows = [r for chunk in _chunked(sorted(keys)) for r in conn.execute(query, {"keys": chunk})]
    if scope is not None and not scope.unrestricted:
        scope = visibility.resolve(conn, scope)
        views = dataset_views(conn, scope, rows)
        current = {r.id: views[r.id].version for r in rows}
    else:
        current = {r.id: r.current_version for r in rows}
    found = states(conn, current, scope)
    failing = {keys[r.node_key]: found[r.id]["failing"] for r in rows if r.id in found}
    for entry in entries:
        if failing.get(entry["id"]):
            entry["failingAssertions"] = failing[entry["id"]]


def _chunked(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]

"""``MLLineage`` (``store.ml``): the questions asked of models, answered from the lineage store.

* ``models()`` — model datasets (``datasetType`` MODEL, as ``ml.log_model`` records them), with their
  deployments (``ml.log_deployment``) and traffic changes;
* ``provenance(model, version=None, as_of=None)`` — the runs back to raw sources, exact versions;
* ``impact(dataset, version=None)`` — every downstream model version, with the runs that made it;
* ``reproducible(model, version=None)`` — a checklist, with what is missing;
* ``diff(run_a, run_b)`` — inputs, code, params, environment, hardware, seeds, hyperparameters, metrics;
* ``approve(...)`` / ``approvals(model)`` — append-only approvals of an exact model version;
* ``trace(trace_id)`` — a served prediction back to its deployment, model version and raw data;
* ``verify_artifacts(dataset, version=None)`` — every artifact of its provenance fingerprinted again;
* ``audit(model, version=None)`` — all of the above plus the hash-chain verification, as one dict.

Errors: an unknown node or version is ``NodeNotFoundError``; a node that is not a model, a bad
framework or an empty approver/reason is ``InvalidQueryError``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core.events import iso, parse_time
from airflow_lineage_provider.core.fingerprints import Counter
from airflow_lineage_provider.core.frameworks import FRAMEWORKS
from airflow_lineage_provider.core.ids import node_text
from airflow_lineage_provider.exceptions import InvalidQueryError, NodeNotFoundError
from airflow_lineage_provider.store import (
    approvals,
    artifacts,
    assertions,
    chain,
    deployments,
    modelmetrics,
    provenance,
    runrecords,
    visibility,
)
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.database import Database, as_of_time
from airflow_lineage_provider.store.modelmetrics import MODEL_TYPE
from airflow_lineage_provider.store.reads import resolve
from airflow_lineage_provider.store.scoped import dataset_views, node_times
from airflow_lineage_provider.store.visibility import Scope


class MLLineage:
    """Model lineage queries over one store's :class:`Database` (see the module docstring); ``record``
    stores an event as ``LineageStore.record`` does (approvals are events)."""

    def __init__(self, database: Database, record: Callable[[Any], bool], scope: Scope | None = None) -> None:
        self._database = database
        self._record = record
        self._scope = scope  # a reader's: versions and runs they may not read are left out

    def _shown(self, conn: Connection) -> provenance.Shown:
        """Whether the reader may see a run."""
        if self._scope is None or self._scope.unrestricted:
            return lambda _run_id: True
        scope = visibility.resolve(conn, self._scope)
        return lambda run_id: visibility.run_visible(conn, run_id, scope)

    # -- lookups --------------------------------------------------------------------------------
    @staticmethod
    def _dataset(conn: Connection, node_id: str) -> Any:
        node, row = resolve(conn, node_id)
        if node.kind != "dataset":
            raise InvalidQueryError(f"{node_id} is a {node.kind}, not a dataset")
        return row

    def _model(self, conn: Connection, node_id: str) -> Any:
        row = self._dataset(conn, node_id)
        if row.type != MODEL_TYPE:
            raise InvalidQueryError(
                f"{node_id} is not a model (its dataset type is {row.type or 'not set'}); models are "
                "datasets logged with ml.log_model or typed datasetType MODEL"
            )
        return row

    def _version(self, conn: Connection, row: Any, version: str | None, as_of: datetime | None = None) -> str:
        """The version asked for, else the one current at ``as_of``, else the current one (of the
        versions the reader may see)."""
        versions = select(t.DatasetVersion.version).where(t.DatasetVersion.dataset_id == row.id)
        if self._scope is not None and not self._scope.unrestricted:
            scope = visibility.resolve(conn, self._scope)
            versions = versions.where(visibility.run_condition(t.DatasetVersion.run_id, scope))
        node_id = node_text(row.kind, row.namespace, row.name)
        if version is not None:
            if conn.execute(versions.where(t.DatasetVersion.version == version)).first() is None:
                recent = list(
                    conn.execute(versions.order_by(t.DatasetVersion.created_at.desc()).limit(3)).scalars()
                )
                raise NodeNotFoundError(f"{node_id} version {version}", [f"version {v}" for v in recent])
            return version
        if as_of is not None:
            versions = versions.where(t.DatasetVersion.created_at <= as_of)
        found = conn.execute(
            versions.order_by(t.DatasetVersion.created_at.desc(), t.DatasetVersion.id.desc()).limit(1)
        ).scalar()
        if found is None:
            when = f" at {iso(as_of)}" if as_of is not None else ""
            raise NodeNotFoundError(f"{node_id}: no version written{when}")
        return str(found)

    def _as_of(self, conn: Connection, as_of: datetime | str | None) -> datetime | None:
        scope = None if self._scope is None else visibility.resolve(conn, self._scope)
        return as_of_time(conn, as_of, scope)

    # -- queries --------------------------------------------------------------------------------
    def models(self, limit: int = 1000, node_id: str | None = None) -> list[dict[str, Any]]:
        """Model datasets, newest first, with their current version, framework and that version's
        metrics (as the reader sees them: :mod:`.scoped`); ``node_id``: that model only (a dataset
        that is not a model: none)."""
        scope = self._scope or Scope("")
        with self._database.connect(write=False) as conn:
            scope = visibility.resolve(conn, scope)
            updated = node_times(t.Node, scope)[1].label("seen_updated")
            query = (
                select(t.Node, updated)
                .where(t.Node.kind == "dataset", t.Node.type == MODEL_TYPE)
                .where(visibility.dataset_condition(t.Node, scope))
            )
            if node_id is not None:
                query = query.where(t.Node.id == self._dataset(conn, node_id).id)
            rows = conn.execute(query.order_by(updated.desc(), t.Node.id).limit(limit)).all()
            views = dataset_views(conn, scope, rows)
            current = [(r, str(views[r.id].version)) for r in rows if views[r.id].version is not None]
            shown = self._shown(conn)
            metrics = modelmetrics.metrics_of(conn, current, shown)
            deployed = deployments.deployments_of(conn, [r.id for r in rows], shown)
        return [
            {
                "id": node_text(r.kind, r.namespace, r.name),
                "namespace": r.namespace,
                "name": r.name,
                "currentVersion": views[r.id].version,
                "framework": (views[r.id].facets.get(runrecords.MODEL) or {}).get("framework"),
                "metrics": {k: v for m in metrics.get(r.id, []) for k, v in m["values"].items()},
                "deployments": deployed[r.id],
                "updatedAt": iso(r.seen_updated),
            }
            for r in rows
        ]

    def provenance(
        self, node_id: str, version: str | None = None, as_of: datetime | str | None = None
    ) -> dict[str, Any]:
        """The runs back from a dataset (model) version to raw sources, with exact versions read."""
        with self._database.connect(write=False) as conn:
            row = self._dataset(conn, node_id)
            chosen = self._version(conn, row, version, self._as_of(conn, as_of))
            found = provenance.provenance(conn, row.id, chosen, self._shown(conn))
            assertions.mark_steps(conn, found["steps"], self._scope)
        root = node_text(row.kind, row.namespace, row.name)
        return {"root": root, "type": row.type, "version": chosen, **found}

    def impact(self, node_id: str, version: str | None = None) -> dict[str, Any]:
        """Downstream model versions of a dataset (of one version of it), with the runs that made them."""
        with self._database.connect(write=False) as conn:
            row = self._dataset(conn, node_id)
            if version is not None:
                self._version(conn, row, version)
            found = provenance.impact(conn, row.id, version, self._shown(conn))
            assertions.mark_steps(conn, found["steps"], self._scope)
        return {"root": node_text(row.kind, row.namespace, row.name), "version": version, **found}

    def trace(self, trace_id: str) -> dict[str, Any]:
        """A served prediction's trace id (``airflow_lineage_provider.serving``) back to the raw data:
        predictions -> deployment -> model version -> training run -> training data -> sources."""
        with self._database.connect(write=False) as conn:
            found = deployments.trace(conn, _run_id(trace_id), self._shown(conn))
            assertions.mark_steps(conn, found["provenance"]["steps"], self._scope)
            return found

    def run_record(self, run_id: str) -> dict[str, Any]:
        """The reproducibility record of one run (code, environment, hardware, inputs, ...)."""
        with self._database.connect(write=False) as conn:
            return runrecords.run_record(conn, _run_id(run_id))

    def diff(self, run_a: str, run_b: str) -> dict[str, Any]:
        """What differs between two runs."""
        with self._database.connect(write=False) as conn:
            return runrecords.diff(conn, _run_id(run_a), _run_id(run_b))

    def reproducible(self, node_id: str, version: str | None = None) -> dict[str, Any]:
        """Whether the run that made a model version can be reproduced: checks and what is missing."""
        with self._database.connect(write=False) as conn:
            row = self._model(conn, node_id)
            return self._reproducible(conn, row, self._version(conn, row, version))

    def _reproducible(
        self, conn: Connection, row: Any, version: str, verified: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The checklist (``verified``: :func:`.artifacts.verify` of the version, when the caller has it)."""
        shown = self._shown(conn)
        run_id = provenance.producer(conn, row.id, version, shown)
        root = node_text(row.kind, row.namespace, row.name)
        if run_id is None:
            checks = [runrecords._check("made by a recorded run", False, "", "no run recorded writing it")]
            return {"model": root, "version": version, "runId": None, "reproducible": False, "checks": checks}
        record = runrecords.run_record(conn, run_id)
        unversioned = provenance.provenance(conn, row.id, version, shown)["unversionedInputs"]
        checks = runrecords.checklist(record, unversioned)
        if verified is None:
            verified = artifacts.verify(conn, row.id, version, shown)
        checks.append(artifacts.inputs_check(verified))
        ok = all(c["ok"] for c in checks if c["required"])
        missing = [c["detail"] for c in checks if c["required"] and not c["ok"]]
        return {
            "model": root,
            "version": version,
            "runId": run_id,
            "reproducible": ok,
            "checks": checks,
            "missing": missing,
        }

    def verify_artifacts(
        self, node_id: str, version: str | None = None, count_rows: Counter | None = None
    ) -> dict[str, Any]:
        """Every artifact of a dataset version's provenance fingerprinted again (:mod:`.artifacts`;
        ``count_rows``: how to count PostgreSQL tables, given a connection)."""
        with self._database.connect(write=False) as conn:
            row = self._dataset(conn, node_id)
            chosen = self._version(conn, row, version)
            found = artifacts.verify(conn, row.id, chosen, self._shown(conn), count_rows)
        return {"root": node_text(row.kind, row.namespace, row.name), "version": chosen, **found}

    # -- approvals ------------------------------------------------------------------------------
    def approve(
        self,
        node_id: str,
        by: str,
        reason: str,
        framework: str | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        """Record an approval of a model version (default: its current version); append-only."""
        if not isinstance(by, str) or not by.strip():
            raise InvalidQueryError("an approval needs who approved it (--by)")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidQueryError("an approval needs a reason (--reason)")
        if framework is not None and framework not in FRAMEWORKS:
            raise InvalidQueryError(f"unknown framework {framework!r}; use one of {', '.join(FRAMEWORKS)}")
        with self._database.connect(write=False) as conn:
            row = self._model(conn, node_id)
            chosen = self._version(conn, row, version)
        now = datetime.now(timezone.utc)
        event = approvals.approval_event(
            row.namespace, row.name, chosen, by.strip(), reason.strip(), framework, now
        )
        self._record(event)
        return {
            "model": node_text(row.kind, row.namespace, row.name),
            "version": chosen,
            "approvedBy": by.strip(),
            "reason": reason.strip(),
            "framework": framework,
            "approvedAt": iso(parse_time(now.isoformat())),
        }

    def approvals(self, node_id: str, version: str | None = None) -> list[dict[str, Any]]:
        """Approvals of a model (of one version when given), oldest first."""
        with self._database.connect(write=False) as conn:
            row = self._model(conn, node_id)
            if version is not None:
                self._version(conn, row, version)
            return self._approvals(conn, row, version)

    def _approvals(self, conn: Connection, row: Any, version: str | None = None) -> list[dict[str, Any]]:
        """Approvals of the model versions the reader may see (and of no version in particular)."""
        found = approvals.listing(conn, row.id, version)
        if self._scope is None or self._scope.unrestricted:
            return found
        scope = visibility.resolve(conn, self._scope)
        dv = t.DatasetVersion
        query = select(dv.version).where(dv.dataset_id == row.id, visibility.run_condition(dv.run_id, scope))
        shown = set(conn.execute(query).scalars())
        return [a for a in found if a["version"] is None or a["version"] in shown]

    # -- audit ----------------------------------------------------------------------------------
    def audit(self, node_id: str, version: str | None = None) -> dict[str, Any]:
        """Everything an auditor asks of one model version, plus whether the event chain verifies."""
        with self._database.connect(write=False) as conn:
            row = self._model(conn, node_id)
            chosen = self._version(conn, row, version)
            shown = self._shown(conn)
            run_id = provenance.producer(conn, row.id, chosen, shown)
            record = runrecords.run_record(conn, run_id) if run_id else None
            found = provenance.provenance(conn, row.id, chosen, shown)
            verified = artifacts.verify(conn, row.id, chosen, shown)
            root = node_text(row.kind, row.namespace, row.name)
            return {
                "model": root,
                "name": row.name,
                "version": chosen,
                "generatedAt": iso(datetime.now(timezone.utc).replace(tzinfo=None)),
                "modelFacet": runrecords._plain(_version_facets(conn, row.id, chosen).get(runrecords.MODEL)),
                "training": record,
                "provenance": {"root": root, "version": chosen, **found},
                "metrics": modelmetrics.metrics_of(conn, [(row, chosen)], shown)[row.id],
                "reproducibility": self._reproducible(conn, row, chosen, verified),
                "approvals": self._approvals(conn, row),
                "deployments": deployments.deployments_of(conn, [row.id], shown)[row.id],
                "chain": chain.verify(conn).to_dict(),
                "artifacts": verified,
            }


def _run_id(text: str) -> str:
    from airflow_lineage_provider.core.ids import parse

    return parse(text if text.startswith("run:") else f"run:{text}").run_id


def _version_facets(conn: Connection, dataset_pk: int, version: str) -> dict[str, Any]:
    found = conn.execute(
        select(t.DatasetVersion.facets).where(
            t.DatasetVersion.dataset_id == dataset_pk, t.DatasetVersion.version == version
        )
    ).scalar()
    return dict(found or {})

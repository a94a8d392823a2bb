"""``LineageStore``: the public Python API of the lineage store.

Contract:

* ``LineageStore.from_url(url)`` / ``LineageStore.from_airflow_config()`` build a store; no I/O
  happens until the first call, which applies pending migrations (Alembic, own version table).
* ``record(event)`` / ``record_many(events)`` take OpenLineage RunEvent, DatasetEvent or JobEvent
  (openlineage-python objects, dicts or JSON text). Every event is validated first; an invalid one
  raises :class:`InvalidEventError` naming the event and field, and nothing of the call is stored.
  Ingestion is idempotent (run events are keyed by run id, event type and event time) and
  order-tolerant.
* ``lineage(node_id, direction, depth, as_of, limit)`` answers provenance (upstream) and impact
  (downstream) questions from a ``dataset:``, ``job:`` or ``run:`` node; ``impact_summary`` counts
  everything downstream of one (by type, namespace, DAG and owner, no cut-off) and ``impact_page``
  lists it a page at a time.
* Errors are :mod:`airflow_lineage_provider.exceptions`; database errors become ``StoreError``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from airflow_lineage_provider.core.events import ParsedEvent, parse_event
from airflow_lineage_provider.core.graph import DIRECTIONS, Direction, LineageGraph, Node
from airflow_lineage_provider.exceptions import InvalidQueryError, StoreError
from airflow_lineage_provider.store import (
    adjacency,
    chain,
    details,
    environments,
    impact,
    reads,
    retention,
    taskruns,
    visibility,
)
from airflow_lineage_provider.store.database import Database, as_of_time
from airflow_lineage_provider.store.engine import DEFAULT_TIMEOUT, make_engine
from airflow_lineage_provider.store.nodecache import NodeCache
from airflow_lineage_provider.store.visibility import Scope
from airflow_lineage_provider.store.writes import GraphWriter, insert_raw

if TYPE_CHECKING:
    from airflow_lineage_provider.store.ml import MLLineage

MAX_DEPTH = 100
_WRITE_ATTEMPTS = 3
# Errors after which the whole transaction can simply be tried again (it was rolled back).
_TRANSIENT = ("deadlock detected", "could not serialize access", "database is locked")


def _check_depth(depth: object) -> None:
    if not isinstance(depth, int) or not 0 <= depth <= MAX_DEPTH:
        raise InvalidQueryError(f"depth must be an integer from 0 to {MAX_DEPTH}, not {depth!r}")


def _is_transient(exc: StoreError) -> bool:
    return any(marker in str(exc) for marker in _TRANSIENT)


@dataclass(frozen=True)
class RecordResult:
    """How many events were new and how many already stored; ``normalised``: what was read
    leniently in the new ones, ``{"index", "field", "note"}`` each (see ``core.normalisation``)."""

    stored: int
    duplicates: int
    normalised: tuple[dict[str, Any], ...] = ()


class LineageStore:
    """The lineage store: raw OpenLineage events plus a versioned lineage graph derived from them."""

    def __init__(self, engine: Engine, *, adjacency_index: int = 0) -> None:
        """``adjacency_index``: keep the edges in memory (:mod:`.adjacency`) for stores of up to that
        many edges, for long-lived stores that answer many queries; 0 (default) walks in SQL."""
        self.database = Database(engine)  # the connection scope every store module works in
        self._environments: set[str] = set()  # distribution-list hashes known to be stored
        self._nodes = NodeCache()  # node rows of earlier batches, valid while the chain head stays ours
        if adjacency_index < 0:
            raise InvalidQueryError(
                f"adjacency_index must be 0 (off) or a number of edges, not {adjacency_index}"
            )
        if adjacency_index:
            adjacency.attach(engine, adjacency_index)

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = DEFAULT_TIMEOUT, adjacency_index: int = 0
    ) -> LineageStore:
        """A store at a SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg2://...``)."""
        return cls(make_engine(url, timeout=timeout), adjacency_index=adjacency_index)

    @classmethod
    def from_airflow_config(
        cls, *, timeout: float = DEFAULT_TIMEOUT, adjacency_index: int = 0
    ) -> LineageStore:
        """The store named by ``[lineage_provider] store_url`` (default: lineage.db in AIRFLOW_HOME)."""
        from airflow_lineage_provider import conf

        return cls.from_url(conf.store_url(), timeout=timeout, adjacency_index=adjacency_index)

    def warm_adjacency(self) -> None:
        """Build the in-memory adjacency index (when this store keeps one) in a background thread, so
        a starting server's first reads are not held up by it: they walk in SQL until it is ready."""
        index = adjacency.of_engine(self.database.engine)
        if index is not None:
            args = (self.database.engine,)
            threading.Thread(target=index.warm, args=args, name="lineage-adjacency", daemon=True).start()

    def adjacency_stats(self) -> dict[str, Any] | None:
        """What the in-memory adjacency index holds and costs (edges, bytes, bytes per edge), or None
        when this store keeps none."""
        index = adjacency.of_engine(self.database.engine)
        return None if index is None else index.stats()

    @property
    def url(self) -> str:
        return self.database.url

    def close(self) -> None:
        adjacency.detach(self.database.engine)
        self.database.close()

    def upgrade(self) -> str:
        """Apply pending migrations; return the schema revision the store is now at."""
        return self.database.upgrade()

    def revision(self) -> str | None:
        """The schema revision the store is at (None for an empty database)."""
        return self.database.revision()

    # -- writes ---------------------------------------------------------------------------------
    def record(self, event: Any) -> bool:
        """Store one event; return False when it was already stored."""
        return self.record_many([event]).stored == 1

    def record_many(
        self, events: Iterable[Any], progress: Callable[[int], None] | None = None
    ) -> RecordResult:
        """Store events in one transaction; an invalid event stores nothing of the call.

        A :class:`ParsedEvent` (what ``parse_event`` returned in this process) is taken as validated.

        ``progress`` is called with 1 for each new event applied to the graph (a progress bar).
        """
        parsed = [e if isinstance(e, ParsedEvent) else parse_event(e, index=i) for i, e in enumerate(events)]
        return self.record_validated(parsed, progress)

    # The outbox hands this method the ParsedEvents it validated while reading (emit.outbox).
    record_many.accepts_parsed_events = True  # type: ignore[attr-defined]

    def record_validated(
        self, parsed: Sequence[ParsedEvent], progress: Callable[[int], None] | None = None
    ) -> RecordResult:
        """Store events that ``parse_event`` returned (in this process) as ``record_many`` does,
        without validating them again: for capture, which validated them before keeping them in
        the outbox. Anything read from outside (REST bodies, files) goes through ``record_many``."""
        parsed = list(parsed)
        if not parsed:
            return RecordResult(0, 0)
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                applied = self._write(parsed, progress)
                break
            except StoreError as exc:
                if attempt == _WRITE_ATTEMPTS or not _is_transient(exc):
                    raise
                time.sleep(0.05 * attempt)
        notes = tuple(
            {"index": index, **note}
            for index, event in enumerate(parsed)
            if event.key in applied
            for note in event.normalised
        )
        return RecordResult(stored=len(applied), duplicates=len(parsed) - len(applied), normalised=notes)

    def _write(self, parsed: list[ParsedEvent], progress: Callable[[int], None] | None = None) -> set[str]:
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        detached = [environments.detach(event) for event in parsed]
        parsed = [event for event, _ in detached]
        found = dict(env for _, env in detached if env is not None)
        with self.database.connect(write=True) as conn:
            appended = insert_raw(conn, parsed, now)
            environments.save(conn, found, now, self._environments)
            todo: dict[str, ParsedEvent] = {}
            for event in sorted(parsed, key=lambda e: e.event_time):
                if event.key in appended.fresh:
                    todo.setdefault(event.key, event)
            writer = GraphWriter(conn, now)
            writer.apply_all(list(todo.values()), progress, partial(self._nodes.take, appended.before))
        self._environments.update(found)  # committed: environment rows are never deleted
        self._nodes.keep(appended.after, writer.state.nodes.values())  # committed: as stored now
        return set(todo)

    # -- lifecycle ------------------------------------------------------------------------------
    def prune(self, older_than: timedelta, *, dry_run: bool = False) -> retention.PruneReport:
        """Remove runs (and their raw events) older than ``older_than``, keeping what the graph needs."""
        if older_than <= timedelta(0):
            raise InvalidQueryError(f"older_than must be positive, not {older_than}")
        cutoff = datetime.now(timezone.utc).replace(tzinfo=None) - older_than
        self._nodes.forget()
        with self.database.connect(write=True) as conn:
            report = retention.prune(conn, cutoff, dry_run=dry_run)
            if not dry_run and report.events:
                chain.reseal(conn)  # the removed events leave the chain sealed over what remains
            return report

    def erase(self, node_id: str, reason: str = "erased on request") -> dict[str, Any]:
        """Remove a dataset's facets everywhere, keeping a tombstone node (see ``store.retention``)."""
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        self._nodes.forget()
        with self.database.connect(write=True) as conn:
            result = retention.erase(conn, node_id, reason=reason, now=now)
            chain.reseal(conn)  # scrubbed events are resealed; verify keeps detecting later tampering
            return result

    # -- reads ----------------------------------------------------------------------------------
    def lineage(
        self,
        node_id: str,
        direction: Direction = "both",
        depth: int = 20,
        as_of: datetime | str | None = None,
        limit: int | None = None,
        scope: Scope | None = None,
        declared: bool = True,
    ) -> LineageGraph:
        """Nodes and directed edges around ``node_id``, up to ``depth`` hops (dataset -> job -> dataset = 2).

        ``declared`` (default True) also walks lineage that producers declared (the spec's lineage
        facet) rather than a run was seen doing; such edges have ``declared=True``. A dataset node
        whose current version has data quality assertions carries ``data["assertions"]``
        (``failing``, ``total``, ``runId``, ``version``).

        ``as_of`` (a datetime, an ISO time or a ``run:<uuid>``/run id) keeps only edges that existed
        then; ``limit`` caps the nodes returned (nearest first) and sets ``is_partial``. ``scope``: the
        graph as one reader may see it (:mod:`.visibility`; ``as_of`` then names only runs they may
        read); the caller checks that the root is visible.
        """
        if direction not in DIRECTIONS:
            raise InvalidQueryError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
        _check_depth(depth)
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise InvalidQueryError(f"limit must be a positive integer, not {limit!r}")
        with self.database.connect(write=False) as conn:
            scope = None if scope is None else visibility.resolve(conn, scope)
            when = as_of_time(conn, as_of, scope)
            return reads.lineage(conn, node_id, direction, depth, when, limit, scope, declared)

    def impact_summary(
        self,
        node_id: str,
        depth: int = 20,
        as_of: datetime | str | None = None,
        scope: Scope | None = None,
        declared: bool = True,
    ) -> impact.ImpactSummary:
        """Everything downstream of ``node_id`` (all of it, up to ``depth`` hops), counted by type,
        namespace, DAG and owner, with the affected DAGs (:mod:`.impact`). ``as_of``, ``scope`` and
        ``declared`` as for :meth:`lineage`; a root a restricted reader may not see is not found."""
        _check_depth(depth)
        with self.database.connect(write=False) as conn:
            scope = None if scope is None else visibility.resolve(conn, scope)
            when = as_of_time(conn, as_of, scope)
            return impact.summary(conn, node_id, depth, when, scope, declared)

    def impact_page(
        self,
        node_id: str,
        depth: int = 20,
        as_of: datetime | str | None = None,
        offset: int = 0,
        limit: int = 100,
        scope: Scope | None = None,
        declared: bool = True,
    ) -> impact.ImpactPage:
        """Nodes ``offset`` to ``offset + limit`` of everything downstream of ``node_id``, nearest first,
        and how many there are in all: page through the whole impact. Arguments as for
        :meth:`impact_summary`."""
        _check_depth(depth)
        if not isinstance(offset, int) or offset < 0:
            raise InvalidQueryError(f"offset must be an integer of 0 or more, not {offset!r}")
        if not isinstance(limit, int) or limit < 1:
            raise InvalidQueryError(f"limit must be a positive integer, not {limit!r}")
        with self.database.connect(write=False) as conn:
            scope = None if scope is None else visibility.resolve(conn, scope)
            when = as_of_time(conn, as_of, scope)
            return impact.page(conn, node_id, depth, when, offset, limit, scope, declared)

    def describe(self, node_id: str) -> dict[str, Any]:
        """Details of a dataset, job or run: facets, schema, versions, runs, inputs and outputs."""
        with self.database.connect(write=False) as conn:
            return details.describe(conn, node_id)

    def column_lineage(self, node_id: str, declared: bool = True) -> list[dict[str, Any]]:
        """For each field of a dataset, the input fields it was computed from; ``declared`` (default
        True) adds the field entries producers declared (the spec's lineage facet), marked
        ``"declared": True``."""
        with self.database.connect(write=False) as conn:
            return details.column_lineage(conn, node_id, declared)

    def dag_jobs(self, namespace: str, dag_id: str) -> list[str]:
        """Node ids of the jobs of one Airflow DAG: the DAG's own job and its tasks' (``<dag_id>.*``)."""
        with self.database.connect(write=False) as conn:
            return reads.dag_jobs(conn, namespace, dag_id)

    def search(self, text: str, limit: int = 20, kind: str | None = None) -> list[Node]:
        """Nodes whose name or namespace contains ``text`` (case-insensitive)."""
        with self.database.connect(write=False) as conn:
            return reads.search(conn, text, limit, kind)

    def open_task_runs(self, namespace: str, since: datetime, limit: int = 500) -> list[taskruns.OpenTaskRun]:
        """Airflow task runs in ``namespace`` started since ``since`` with no terminal event yet."""
        if since.tzinfo is not None:
            since = since.astimezone(timezone.utc).replace(tzinfo=None)
        with self.database.connect(write=False) as conn:
            return taskruns.open_task_runs(conn, namespace, since, limit)

    def event_types(self, run_ids: Iterable[str]) -> dict[str, set[str]]:
        """The run event types stored for each run id (runs without events are left out)."""
        with self.database.connect(write=False) as conn:
            return taskruns.event_types(conn, run_ids)

    def verify(self) -> chain.Verification:
        """Re-check the hash chain of every stored raw event; the first event that does not match."""
        with self.database.connect(write=False) as conn:
            return chain.verify(conn)

    @property
    def ml(self) -> MLLineage:
        """Model lineage: provenance, impact, reproducibility, run diffs, approvals and audits."""
        return self.ml_for(None)

    def ml_for(self, scope: Scope | None) -> MLLineage:
        """:attr:`ml` as one reader (``scope``) sees it: versions and runs they may not read are left out."""
        from airflow_lineage_provider.store.ml import MLLineage

        return MLLineage(self.database, self.record, scope)

    def events(
        self, *, after_id: int | None = None, limit: int | None = None, run_id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Raw stored events in the order they were received."""
        with self.database.connect(write=False) as conn:
            yield from details.events(conn, after_id, limit, run_id)

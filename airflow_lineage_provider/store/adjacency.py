"""A compact in-memory adjacency index of the edge tables, for long-lived stores (the API server).

The observed edges are held as compressed sparse rows in contiguous integer arrays (``array``, no
object per edge): for each node id the targets of its outgoing edges (sorted) with each edge's
``first_seen`` and ``last_seen`` in microseconds, and for each node id the sources of its incoming
edges. 28 bytes an edge with 4-byte node ids, plus 16 bytes a node id (37-46 an edge measured); the
few declared edges are kept in small dictionaries. ``max_edges`` bounds it: a larger graph is walked
in SQL, as without an index.

The tables stay the truth. Every read first catches up (:meth:`AdjacencyIndex.refresh`, one query):
edges whose ``seq`` (migration 0005; set by the database on insert and when an edge's times change) is
above the last one seen. A new edge joins a small overflow list until the overflow passes a tenth of
the rows, when the index is built again; a changed edge's times are overwritten in place. A deletion
of any edge row moves ``lineage_graph_changes.deletions``, and the index is built again. So several
API servers on one PostgreSQL database each answer from what is committed, never from a stale copy.
"""

from __future__ import annotations

import bisect
import logging
import threading
import weakref
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1)
Span = tuple[int, int]  # (first_seen, last_seen) in microseconds since the epoch
_MICROS = {
    "sqlite": "(CAST(strftime('%s', {c}) AS INTEGER) * 1000000 + CAST(substr({c}, 21, 6) AS INTEGER))",
    "postgresql": "CAST(EXTRACT(EPOCH FROM {c}) * 1000000 AS BIGINT)",
}


def micros(value: datetime) -> int:
    """A naive UTC time as microseconds since the epoch (what the index holds)."""
    return (value - EPOCH) // timedelta(microseconds=1)


def to_time(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _columns(conn: Connection) -> str:
    micro = _MICROS[conn.dialect.name]
    return f"src, dst, {micro.format(c='first_seen')}, {micro.format(c='last_seen')}"


def _refresh_sql(conn: Connection) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cols = _columns(conn)
    return (
        "SELECT 0, deletions, 0, 0, 0, 0, 0 FROM lineage_graph_changes "
        f"UNION ALL SELECT 1, {cols}, seq, 0 FROM lineage_edges WHERE seq > {mark} "
        f"UNION ALL SELECT 2, {cols}, seq, declared_by FROM lineage_declared_edges WHERE seq > {mark}"
    )


def _rows(conn: Connection, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _ids(values: Any) -> array[int]:
    found = array("q", values)
    return array("i", found) if not found or max(found) < 2**31 else found


def _offsets(keys: array[int], size: int) -> array[int]:
    """CSR offsets of sorted ``keys`` over node ids ``0 .. size - 1``."""
    counts = [0] * (size + 1)
    for key in keys:
        counts[key + 1] += 1
    return array("q", accumulate(counts))


@dataclass
class Graph:
    """One build of the index; a rebuild makes a new one (readers keep the one they started with)."""

    out_off: array[int]
    out_dst: array[int]
    first: array[int]
    last: array[int]
    in_off: array[int]
    in_src: array[int]
    in_edge: array[int]  # where each incoming edge sits in the outgoing rows (its times)
    extra_out: dict[int, list[int]] = field(default_factory=dict)  # edges added since the build
    extra_in: dict[int, list[int]] = field(default_factory=dict)
    extra_span: dict[tuple[int, int], Span] = field(default_factory=dict)
    declared: dict[tuple[int, int, int], Span] = field(default_factory=dict)  # (src, dst, by) -> span
    declared_out: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # src -> [(dst, by)]
    declared_in: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    @property
    def edges(self) -> int:
        return len(self.out_dst) + len(self.extra_span)

    def position(self, src: int, dst: int) -> int:
        """Where the edge src -> dst sits in the rows, or -1 when it is not there."""
        if src + 1 >= len(self.out_off):
            return -1
        lo, hi = self.out_off[src], self.out_off[src + 1]
        at = bisect.bisect_left(self.out_dst, dst, lo, hi)
        return at if at < hi and self.out_dst[at] == dst else -1

    def edges_of(self, node: int, upstream: bool, as_of: int | None) -> list[tuple[int, int, int, int]]:
        """(src, dst, first, last) of the observed edges into (upstream) or out of ``node``."""
        first, last = self.first, self.last
        found: list[tuple[int, int, int, int]] = []
        if upstream and node + 1 < len(self.in_off):
            lo, hi = self.in_off[node], self.in_off[node + 1]
            found = [
                (src, node, first[e], last[e])
                for src, e in zip(self.in_src[lo:hi], self.in_edge[lo:hi], strict=True)
            ]
        elif not upstream and node + 1 < len(self.out_off):
            lo, hi = self.out_off[node], self.out_off[node + 1]
            found = [(node, dst, first[e], last[e]) for e, dst in enumerate(self.out_dst[lo:hi], lo)]
        for other in (self.extra_in if upstream else self.extra_out).get(node, ()):
            pair = (other, node) if upstream else (node, other)
            found.append((*pair, *self.extra_span[pair]))
        return found if as_of is None else [e for e in found if e[2] <= as_of]

    def declared_of(
        self, node: int, upstream: bool, as_of: int | None
    ) -> Iterator[tuple[int, int, int, int, int]]:
        """(src, dst, first, last, declared_by) of the declared edges into or out of ``node``."""
        for other, by in (self.declared_in if upstream else self.declared_out).get(node, ()):
            src, dst = (other, node) if upstream else (node, other)
            first, last = self.declared[(src, dst, by)]
            if as_of is None or first <= as_of:
                yield src, dst, first, last, by

    def apply(self, row: tuple[Any, ...]) -> None:
        """One changed row of the refresh query (kind 1: observed edge, 2: declared edge)."""
        kind, src, dst, first, last, _seq, by = row
        if kind == 2:
            if (src, dst, by) not in self.declared:
                self.declared_out.setdefault(src, []).append((dst, by))
                self.declared_in.setdefault(dst, []).append((src, by))
            self.declared[(src, dst, by)] = (first, last)
            return
        at = self.position(src, dst)
        if at >= 0:
            self.first[at], self.last[at] = first, last
            return
        if (src, dst) not in self.extra_span:
            self.extra_out.setdefault(src, []).append(dst)
            self.extra_in.setdefault(dst, []).append(src)
        self.extra_span[(src, dst)] = (first, last)

    def nbytes(self) -> int:
        arrays = (self.out_off, self.out_dst, self.first, self.last, self.in_off, self.in_src, self.in_edge)
        return sum(a.itemsize * len(a) for a in arrays) + 200 * (len(self.extra_span) + len(self.declared))


class AdjacencyIndex:
    """The edges of one store in memory, brought up to date before each read (see the module doc)."""

    def __init__(self, max_edges: int) -> None:
        self.max_edges = max_edges
        self._graph: Graph | None = None
        self._deletions: int | None = None
        self._seq = 0
        self._declared_seq = 0
        self._too_big = False
        self._lock = threading.Lock()
        self.builds = 0

    def refresh(self, conn: Connection) -> Graph | None:
        """Catch up with the tables (one query; a build when first used or after a deletion);
        the graph to walk, or None when the store has more than ``max_edges`` edges or another
        thread is building the first graph (:meth:`warm`): the caller then walks in SQL."""
        if not self._lock.acquire(blocking=self._graph is not None or self._too_big):
            return None
        try:
            return self._refresh(conn)
        finally:
            self._lock.release()

    def warm(self, engine: Engine) -> None:
        """Build the index now (in a thread of a starting server: reads walk in SQL meanwhile); a
        failure is logged, and the next read tries again."""
        try:
            with engine.connect() as conn:
                self.refresh(conn)
        except SQLAlchemyError as exc:
            log.warning("lineage adjacency index not built yet: %s", exc)

    def _refresh(self, conn: Connection) -> Graph | None:
        """:meth:`refresh`, holding the lock."""
        if self._graph is None and not self._too_big:  # first use: no need to read changes
            self._build(conn, _rows(conn, "SELECT deletions FROM lineage_graph_changes")[0][0])
            return self._graph
        rows = _rows(conn, _refresh_sql(conn), self._seq, self._declared_seq)
        deletions = next((r[1] for r in rows if r[0] == 0), 0)
        if deletions != self._deletions:
            self._build(conn, deletions)
            return self._graph
        graph = self._graph
        if graph is None:  # too big
            self._seq = max((r[5] for r in rows if r[0] == 1), default=self._seq)
            self._declared_seq = max((r[5] for r in rows if r[0] == 2), default=self._declared_seq)
            return None
        for row in rows:
            if row[0] == 0:
                continue
            graph.apply(row)
            if row[0] == 1:
                self._seq = max(self._seq, row[5])
            else:
                self._declared_seq = max(self._declared_seq, row[5])
        if len(graph.extra_span) > max(10_000, len(graph.out_dst) // 10):
            self._build(conn, deletions)
        return self._graph

    def _build(self, conn: Connection, deletions: int) -> None:
        """Read every edge (in primary key order, from the indexes) into new arrays."""
        self._deletions, self._graph = deletions, None
        seqs = _rows(
            conn,
            "SELECT (SELECT coalesce(max(seq), 0) FROM lineage_edges), "
            "(SELECT coalesce(max(seq), 0) FROM lineage_declared_edges)",
        )[0]
        count = _rows(conn, "SELECT count(*) FROM lineage_edges")[0][0]
        self._too_big = count > self.max_edges
        if self._too_big:
            log.warning(
                "lineage adjacency index off: %d edges, more than max_edges %d", count, self.max_edges
            )
            self._seq, self._declared_seq = seqs
            return
        rows = _rows(conn, f"SELECT {_columns(conn)} FROM lineage_edges ORDER BY src, dst")
        srcs = array("q", (r[0] for r in rows))
        dsts = array("q", (r[1] for r in rows))
        size = max(max(srcs, default=-1), max(dsts, default=-1)) + 1
        back = sorted(range(len(rows)), key=dsts.__getitem__)  # stable: sources stay sorted
        graph = Graph(
            out_off=_offsets(srcs, size),
            out_dst=_ids(dsts),
            first=array("q", (r[2] for r in rows)),
            last=array("q", (r[3] for r in rows)),
            in_off=_offsets(array("q", sorted(dsts)), size),
            in_src=_ids(srcs[e] for e in back),
            in_edge=_ids(back),
        )
        cols = _columns(conn)
        for row in _rows(conn, f"SELECT 2, {cols}, seq, declared_by FROM lineage_declared_edges"):
            graph.apply(row)  # rows changed since the seq read above come again at the next refresh
        self._seq, self._declared_seq = seqs
        self._graph = graph
        self.builds += 1

    def stats(self) -> dict[str, Any]:
        """What the index holds and costs: edges, bytes, bytes per edge, builds."""
        graph = self._graph
        edges = 0 if graph is None else graph.edges
        size = 0 if graph is None else graph.nbytes()
        return {
            "enabled": graph is not None,
            "edges": edges,
            "bytes": size,
            "bytesPerEdge": round(size / edges, 1) if edges else None,
            "maxEdges": self.max_edges,
            "builds": self.builds,
        }


_INDEXES: weakref.WeakKeyDictionary[Engine, AdjacencyIndex] = weakref.WeakKeyDictionary()


def attach(engine: Engine, max_edges: int) -> AdjacencyIndex:
    """Keep an adjacency index for the store on ``engine`` (every read through it uses the index)."""
    index = _INDEXES.get(engine)
    if index is None:
        index = _INDEXES[engine] = AdjacencyIndex(max_edges)
    return index


def detach(engine: Engine) -> None:
    _INDEXES.pop(engine, None)


def of_engine(engine: Engine) -> AdjacencyIndex | None:
    return _INDEXES.get(engine)


def of(conn: Connection) -> AdjacencyIndex | None:
    """The index kept for this connection's engine, if any."""
    return _INDEXES.get(conn.engine)

"""Graph queries: depth-bounded breadth-first walks over the indexed edge table, never the whole graph
in memory.

Depth counts hops in the dataset-job graph (dataset -> job -> dataset is 2), as Marquez's ``depth``
and ML Metadata's ``max_num_hops`` do. ``as_of`` keeps only edges first seen at or before that time.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, DateTime, bindparam, or_, select

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.graph import Direction, Edge, LineageGraph, Node
from airflow_lineage_provider.core.ids import NodeId, node_text, parse, splits
from airflow_lineage_provider.exceptions import NodeNotFoundError
from airflow_lineage_provider.store import adjacency, assertions, tags, visibility
from airflow_lineage_provider.store import declared as declared_edges
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.graphstate import node_key
from airflow_lineage_provider.store.scoped import dataset_views
from airflow_lineage_provider.store.upserts import statement
from airflow_lineage_provider.store.visibility import Scope

_IN_CHUNK = 5000

_DIR = {True: "upstream", False: "downstream"}
_EDGE_TYPE = {"dataset": "input", "job": "output"}  # by the kind of the edge's source


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


def find_node_row(conn: Connection, node: NodeId) -> Any | None:
    for candidate in (node, *splits(node)):
        kind = "dataset" if candidate.kind == "datasetField" else candidate.kind
        row = conn.execute(
            select(t.Node).where(t.Node.node_key == node_key(kind, candidate.namespace, candidate.name))
        ).first()
        if row is not None:
            return row
    return None


def resolve(conn: Connection, node_id: str) -> tuple[NodeId, Any]:
    """Parse a node id and find it; NodeNotFoundError with suggestions when it is not stored."""
    node = parse(node_id)
    if node.kind == "run":
        row = conn.execute(select(t.Run).where(t.Run.run_id == node.run_id)).first()
    else:
        row = find_node_row(conn, node)
        if row is not None:
            node = NodeId(row.kind, row.namespace, row.name)
    if row is None:
        raise NodeNotFoundError(node_id, suggest(conn, node))
    return node, row


def suggest(conn: Connection, node: NodeId) -> list[str]:
    """Up to three stored node ids whose names look like the one asked for."""
    if node.kind == "run":
        return []
    wanted = node.name.lower()
    tail = wanted.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    candidates = {n.id: n.name.lower() for n in search(conn, tail[:4], limit=200)}
    close = difflib.get_close_matches(wanted, candidates.values(), n=3, cutoff=0.6)
    return [node_id for name in close for node_id, cand in candidates.items() if cand == name][:3]


def search(conn: Connection, needle: str, limit: int = 20, kind: str | None = None) -> list[Node]:
    matches = or_(
        t.Node.name.icontains(needle, autoescape=True),
        t.Node.namespace.icontains(needle, autoescape=True),
        tags.matching(t.Node, needle),
    )
    query = select(t.Node).where(matches)
    if kind:
        query = query.where(t.Node.kind == kind)
    found = conn.execute(query.order_by(t.Node.kind, t.Node.name).limit(max(limit * 5, limit))).all()
    rows = sorted(found, key=lambda r: (r.name.lower() != needle.lower(), len(r.name), r.name))[:limit]
    runs = _latest_runs(conn, rows)
    return [_node(r, 0, runs) for r in rows]


def dag_jobs(conn: Connection, namespace: str, dag_id: str) -> list[str]:
    """Node ids of the jobs named ``dag_id`` or ``dag_id.<anything>`` in ``namespace``, sorted."""
    prefix = dag_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"
    rows = conn.execute(
        select(t.Node.name).where(
            t.Node.kind == "job",
            t.Node.namespace == namespace,
            or_(t.Node.name == dag_id, t.Node.name.like(prefix, escape="\\")),
        )
    ).scalars()
    return sorted(node_text("job", namespace, name) for name in rows)


def _schema(facets: dict[str, Any] | None) -> Any:
    return ((facets or {}).get("schema") or {}).get("fields")


def _node(row: Any, depth: int, runs: dict[str, Any]) -> Node:
    data: dict[str, Any] = {"type": row.type}
    if row.kind == "dataset":
        data["version"] = row.current_version
        fields = row.schema_fields if "schema_fields" in row._fields else _schema(row.facets)
        data["fields"] = [f.get("name") for f in fields or [] if isinstance(f, dict)]
    elif row.latest_run_id and row.latest_run_id in runs:
        run = runs[row.latest_run_id]
        data["latestRun"] = {
            "runId": run.run_id,
            "state": run.state,
            "startedAt": iso(run.started_at),
            "endedAt": iso(run.ended_at),
        }
    return Node(node_text(row.kind, row.namespace, row.name), row.kind, row.namespace, row.name, depth, data)


_WALK_SQL = "SELECT src, dst, first_seen, last_seen FROM lineage_edges WHERE {this} IN ({ids}){as_of}"
_DECLARED_SQL = (
    "SELECT src, dst, first_seen, last_seen, declared_by FROM lineage_declared_edges "
    "WHERE {this} IN ({ids}){as_of}"
)
_NODES_SQL = (
    "SELECT id, kind, namespace, name, type, current_version, latest_run_id, {fields} "
    "FROM lineage_nodes WHERE id IN ({ids})"
)
_FIELDS = {
    "postgresql": "facets -> 'schema' -> 'fields'",
    "sqlite": "json_extract(facets, '$.schema.fields')",
}
_RUNS_SQL = "SELECT run_id, state, started_at, ended_at FROM lineage_runs WHERE run_id IN ({ids})"


def _fetch(conn: Connection, sql: str, ids: Sequence[Any], *extra: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` for ``ids`` (its ``{ids}`` placeholder list), in chunks, straight from the
    DB-API cursor of this connection: these reads return tens of thousands of small rows, and
    SQLAlchemy's per-row result and type processing cost more than the queries themselves."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    rows: list[tuple[Any, ...]] = []
    try:
        for chunk in _chunks(ids):
            cursor.execute(sql.format(ids=",".join([mark] * len(chunk)), mark=mark), (*chunk, *extra))
            rows.extend(cursor.fetchall())
    finally:
        cursor.close()
    return rows


def _time(value: Any) -> datetime | None:
    """A time as the driver returns it (SQLite: SQLAlchemy's text form), or as the adjacency index
    holds it (microseconds), as a naive datetime."""
    if isinstance(value, int):
        return adjacency.to_time(value)
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _driver_time(conn: Connection, value: Any) -> Any:
    """An index time (microseconds) as the driver returns the column (SQLite: its text form)."""
    when = adjacency.to_time(value)
    return when.isoformat(" ", "microseconds") if conn.dialect.name == "sqlite" else when


@functools.lru_cache(maxsize=65536)
def _iso_micros(value: int) -> str | None:
    """``iso`` of an index time: edges touched by one event share it, so most are formatted once."""
    return iso(adjacency.to_time(value))


def _iso_text(value: Any) -> str | None:
    """``iso(_time(value))``, by slicing SQLite's fixed-width text ``YYYY-MM-DD HH:MM:SS.ffffff``
    (an edge answer formats hundreds of thousands of these)."""
    if isinstance(value, int):
        return _iso_micros(value)
    if not isinstance(value, str) or len(value) != 26:
        return iso(_time(value))
    if value.endswith(".000000"):  # isoformat leaves out zero microseconds
        return f"{value[:10]}T{value[11:19]}Z"
    return f"{value[:10]}T{value[11:]}Z"


def _edges_of(
    conn: Connection,
    ids: Sequence[int],
    upstream: bool,
    as_of: datetime | None,
    scope: Scope | None = None,
    declared: bool = False,
    graph: adjacency.Graph | None = None,
) -> list[tuple[Any, ...]]:
    """(src, dst, first_seen, last_seen, is_declared) of the edges into (upstream) or out of ``ids``;
    with ``declared``, declared edges too (:mod:`.declared`) where no observed edge joins the pair.
    From the adjacency index when ``graph`` is given (times then in microseconds), else from SQL."""
    if graph is not None:
        return _indexed_edges(conn, graph, ids, upstream, as_of, scope, declared)
    extra: tuple[Any, ...] = ()
    if as_of is not None:  # bound as SQLAlchemy stores it, so SQLite compares the same text format
        processor = DateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
        extra = (processor(as_of) if processor else as_of,)
    parts = {
        "this": "dst" if upstream else "src",
        "ids": "{ids}",
        "as_of": " AND first_seen <= {mark}" if extra else "",
    }
    rows = [(*r, False) for r in _fetch(conn, _WALK_SQL.format(**parts), ids, *extra)]
    if declared:
        found = _fetch(conn, _DECLARED_SQL.format(**parts), ids, *extra)
        rows.extend(declared_edges.visible(conn, found, {(r[0], r[1]) for r in rows}, scope))
    return rows


def _indexed_edges(
    conn: Connection,
    graph: adjacency.Graph,
    ids: Sequence[int],
    upstream: bool,
    as_of: datetime | None,
    scope: Scope | None,
    declared: bool,
) -> list[tuple[Any, ...]]:
    """:func:`_edges_of` answered from the adjacency index."""
    when = None if as_of is None else adjacency.micros(as_of)
    rows: list[tuple[Any, ...]] = [(*e, False) for n in ids for e in graph.edges_of(n, upstream, when)]
    if declared:
        found = [row for n in ids for row in graph.declared_of(n, upstream, when)]
        if found:
            rows.extend(declared_edges.visible(conn, found, {(r[0], r[1]) for r in rows}, scope))
    return rows


def indexed(conn: Connection) -> adjacency.Graph | None:
    """The adjacency index of this connection's store, brought up to date, or None (walk in SQL)."""
    index = adjacency.of(conn)
    return None if index is None else index.refresh(conn)


def walk(
    conn: Connection,
    seeds: dict[int, int],
    upstream: bool,
    depth: int,
    as_of: datetime | None,
    limit: int | None,
    scope: Scope | None = None,
    declared: bool = False,
    *,
    graph: adjacency.Graph | None | Literal[True] = True,
) -> tuple[dict[int, int], dict[tuple[int, int], tuple[Any, Any, bool]]]:
    """Breadth-first from ``seeds`` (node id -> depth), one indexed ``IN`` query per level.

    Returns node id -> smallest depth (at most ``limit + 1`` nodes: one more than the limit tells the
    caller the answer is partial; the kept ones are the nearest, lowest ids first, as a recursive
    ``ORDER BY depth, node LIMIT`` would give) and the edges seen on the way, (src, dst) ->
    (first_seen, last_seen). No node is expanded twice and the walk stops as soon as the limit is
    reached, so the work is bounded by the answer, not by the graph. With a restricted ``scope`` the
    walk neither reaches nor goes through nodes the reader may not see, so the limit and
    ``is_partial`` count visible nodes only.

    ``graph``: by default the levels are read from the adjacency index (:mod:`.adjacency`) when this
    store keeps one (the answer is the same, times as the driver returns them); an index graph
    (:func:`indexed`) is walked as given, its times left in microseconds; None walks in SQL."""
    lookup = graph is True
    if graph is True:
        graph = indexed(conn)
    cap = None if not limit else limit + 1
    found = dict(seeds)
    edges: dict[tuple[int, int], tuple[Any, Any, bool]] = {}
    frontier = sorted(n for n, d in seeds.items() if d < depth)
    level = min(seeds.values(), default=0)
    while frontier and level < depth and (cap is None or len(found) < cap):
        reached: set[int] = set()
        for src, dst, first, last, is_declared in _edges_of(
            conn, frontier, upstream, as_of, scope, declared, graph
        ):
            edges[(src, dst)] = (first, last, is_declared)
            node = src if upstream else dst
            if node not in found:
                reached.add(node)
        if scope is not None and not scope.unrestricted:
            reached = visibility.visible_node_pks(conn, reached, scope)
        new = sorted(reached)
        if cap is not None:
            new = new[: cap - len(found)]
        level += 1
        found.update((n, level) for n in new)
        frontier = new
    if lookup and graph is not None:
        edges = {
            pair: (_driver_time(conn, first), _driver_time(conn, last), is_declared)
            for pair, (first, last, is_declared) in edges.items()
        }
    return found, edges


def lineage(
    conn: Connection,
    node_id: str,
    direction: Direction,
    depth: int,
    as_of: datetime | None,
    limit: int | None,
    scope: Scope | None = None,
    declared: bool = True,
) -> LineageGraph:
    """The graph around a node; with a restricted ``scope``, as that reader may see it (the caller
    checks that the root is visible); ``declared`` walks declared edges too, marked declared."""
    node, row = resolve(conn, node_id)
    graph = indexed(conn)
    run_nodes: list[Node] = []
    run_io: list[tuple[int, str]] = []
    found: dict[int, int] = {}
    walked: dict[tuple[int, int], tuple[Any, Any, bool]] = {}
    ways = [up for up in (True, False) if direction in ("both", _DIR[up])]
    for up in ways:
        if node.kind == "run":
            io_dir = "input" if up else "output"
            ids = conn.execute(
                select(t.RunIO.dataset_id).where(t.RunIO.run_id == row.run_id, t.RunIO.direction == io_dir)
            ).scalars()
            seeds = {int(d): 1 for d in ids}
            if scope is not None and not scope.unrestricted:
                shown = visibility.visible_node_pks(conn, seeds, scope)
                seeds = {d: level for d, level in seeds.items() if d in shown}
            run_io.extend((d, io_dir) for d in seeds)
        else:
            seeds = {row.id: 0}
        reached, seen = walk(conn, seeds, up, depth, as_of, limit, scope, declared, graph=graph)
        for node_pk, d in reached.items():
            found[node_pk] = min(d, found.get(node_pk, d))
        walked.update(seen)
    if node.kind == "run":
        run_nodes.append(Node(str(node), "run", "", row.run_id, 0, {"state": row.state}))
    is_partial = bool(limit) and len(found) > (limit or 0)
    if limit and is_partial:
        found = dict(sorted(found.items(), key=lambda kv: (kv[1], kv[0]))[:limit])
    nodes, names, kinds = _load_nodes(conn, found, scope)
    if len(ways) == 1:  # the walk saw every edge of the nodes it expanded; fetch the rest's
        expanded = {d if ways[0] else s for s, d in walked}
        rest = [n for n in found if n not in expanded]
        spans = _edges_among(conn, found, walked, rest, ways[0], as_of, scope, declared, graph)
    else:  # both ways: an edge may join an upstream node to a downstream one
        spans = _edges_among(conn, found, {}, list(found), False, as_of, scope, declared, graph)
    edges = [
        Edge(names[s], names[d], _edge_type(kinds[s], kinds[d]), _iso_text(f), _iso_text(ls), is_declared)
        for (s, d), (f, ls, is_declared) in sorted(spans.items())
        if s in names and d in names  # (an edge the index saw committed after the nodes were read)
    ]
    for dataset_pk, io_dir in run_io:
        if dataset_pk in names:
            pair = (names[dataset_pk], str(node)) if io_dir == "input" else (str(node), names[dataset_pk])
            edges.append(Edge(pair[0], pair[1], io_dir))
    return LineageGraph(
        root=str(node),
        direction=direction,
        depth=depth,
        nodes=run_nodes + nodes,
        edges=edges,
        is_partial=is_partial,
        as_of=iso(as_of),
    )


def _edge_type(source: str, target: str) -> str:
    """input (dataset -> job), output (job -> dataset), or declared (dataset -> dataset, job -> job)."""
    return "declared" if source == target else _EDGE_TYPE[source]


def _load_nodes(
    conn: Connection, found: dict[int, int], scope: Scope | None = None
) -> tuple[list[Node], dict[int, str], dict[int, str]]:
    """The found nodes (columns a lineage answer shows, not whole facets), their ids and kinds;
    datasets as a restricted reader sees them (:mod:`.scoped`)."""
    sql = _NODES_SQL.format(fields=_FIELDS[conn.dialect.name], ids="{ids}")
    rows = _fetch(conn, sql, list(found))
    views = {}
    if scope is not None and not scope.unrestricted:
        datasets = [r[0] for r in rows if r[1] == "dataset"]
        stored = [n for c in _chunks(datasets) for n in conn.execute(select(t.Node).where(t.Node.id.in_(c)))]
        views = dataset_views(conn, scope, stored)
    runs = _run_states(conn, [r[6] for r in rows if r[1] == "job" and r[6]])
    current = {r[0]: (views[r[0]].version if r[0] in views else r[5]) for r in rows if r[1] == "dataset"}
    checked = assertions.states(conn, current, scope)
    nodes, names, kinds = [], {}, {}
    for pk, kind, namespace, name, type_, version, latest, fields in rows:
        data: dict[str, Any] = {"type": type_}
        if kind == "dataset" and pk in views:
            view = views[pk]
            data.update(version=view.version, restricted=view.restricted)
            data["fields"] = [f.get("name") for f in view.schema_fields]
        elif kind == "dataset":
            fields = json.loads(fields) if isinstance(fields, str) else fields
            data["version"] = version
            data["fields"] = [f.get("name") for f in fields or [] if isinstance(f, dict)]
        elif latest in runs:
            data["latestRun"] = runs[latest]
        if pk in checked:
            data["assertions"] = checked[pk]
        text = f"{kind}:{namespace}:{name}"  # node_text, inlined: this loop runs for every node
        nodes.append(Node(text, kind, namespace, name, found[pk], data))
        names[pk], kinds[pk] = text, kind
    nodes.sort(key=lambda n: (n.depth, n.id))
    return nodes, names, kinds


def _run_states(conn: Connection, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latestRun entry of each run: state and times only, never its facets."""
    return {
        run_id: {
            "runId": run_id,
            "state": state,
            "startedAt": _iso_text(started),
            "endedAt": _iso_text(ended),
        }
        for run_id, state, started, ended in _fetch(conn, _RUNS_SQL, run_ids)
    }


def _latest_runs(conn: Connection, rows: Sequence[Any]) -> dict[str, Any]:
    """The latest run of each job row, by run id (state and times only, never its facets)."""
    run_ids = [r.latest_run_id for r in rows if r.kind == "job" and r.latest_run_id]
    runs: dict[str, Any] = {}
    query = statement(conn, "reads.runs", _runs_query)
    for chunk in _chunks(run_ids):
        runs.update({r.run_id: r for r in conn.execute(query, {"ids": list(chunk)})})
    return runs


def _runs_query(_conn: Connection) -> Any:
    r = t.Run
    ids: Any = bindparam("ids", expanding=True)
    return select(r.run_id, r.state, r.started_at, r.ended_at).where(r.run_id.in_(ids))


def _edges_among(
    conn: Connection,
    found: dict[int, int],
    walked: dict[tuple[int, int], tuple[Any, Any, bool]],
    rest: list[int],
    upstream: bool,
    as_of: datetime | None,
    scope: Scope | None = None,
    declared: bool = False,
    graph: adjacency.Graph | None = None,
) -> dict[tuple[int, int], tuple[Any, Any, bool]]:
    """Edges with both ends found: those the walk saw, plus those of the nodes in ``rest`` (the ones
    it did not expand), fetched in the walk's direction. (src, dst) -> (first_seen, last_seen)."""
    spans = dict(walked)
    rows = _edges_of(conn, sorted(rest), upstream, as_of, scope, declared, graph)
    for src, dst, first, last, is_declared in rows:
        spans[(src, dst)] = (first, last, is_declared)
    return {pair: span for pair, span in spans.items() if pair[0] in found and pair[1] in found}

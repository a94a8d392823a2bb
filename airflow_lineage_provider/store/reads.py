"""Graph queries: depth-bounded recursive SQL over the edge table, never the whole graph in memory.

Depth counts hops in the dataset-job graph (dataset -> job -> dataset is 2), as Marquez's ``depth``
and ML Metadata's ``max_num_hops`` do. ``as_of`` keeps only edges first seen at or before that time.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, bindparam, or_, select, text

from airflow_lineage_provider.core.graph import Direction, Edge, LineageGraph, Node
from airflow_lineage_provider.core.ids import NodeId, parse, splits
from airflow_lineage_provider.exceptions import NodeNotFoundError
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.upserts import statement
from airflow_lineage_provider.store.writes import node_key

_IN_CHUNK = 5000

_WALK = """
WITH RECURSIVE walk(node, depth) AS (
    {seed}
    UNION
    SELECT e.{next_col}, w.depth + 1 FROM walk w JOIN lineage_edges e ON e.{this_col} = w.node
    WHERE w.depth < :max_depth {as_of}
)
SELECT node, MIN(depth) AS depth FROM walk GROUP BY node ORDER BY MIN(depth), node {limit}
"""


_DIR = {True: "upstream", False: "downstream"}
_NODE_SEED = "SELECT CAST(:start AS BIGINT), 0"
_RUN_SEED = (
    "SELECT CAST(dataset_id AS BIGINT), 1 FROM lineage_run_io WHERE run_id = :run_id AND direction = :dir"
)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + "Z"


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


def node_text(kind: str, namespace: str, name: str) -> str:
    return str(NodeId(kind, namespace, name))  # type: ignore[arg-type]


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
        t.Node.name.icontains(needle, autoescape=True), t.Node.namespace.icontains(needle, autoescape=True)
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


def walk(
    conn: Connection,
    seed: str,
    seed_params: dict[str, Any],
    upstream: bool,
    depth: int,
    as_of: datetime | None,
    limit: int | None,
) -> dict[int, int]:
    """Node id -> smallest depth, walking edges backwards (upstream) or forwards (downstream)."""
    sql = _WALK.format(
        seed=seed,
        this_col="dst" if upstream else "src",
        next_col="src" if upstream else "dst",
        as_of="AND e.first_seen <= :as_of" if as_of else "",
        limit="LIMIT :limit" if limit else "",
    )
    params = {**seed_params, "max_depth": depth, "as_of": as_of, "limit": (limit or 0) + 1}
    statement = text(sql)
    if as_of is not None:  # typed, so SQLite compares it in the same text format it stores
        statement = statement.bindparams(bindparam("as_of", type_=DateTime()))
    return {int(node): int(d) for node, d in conn.execute(statement, params)}


def lineage(
    conn: Connection,
    node_id: str,
    direction: Direction,
    depth: int,
    as_of: datetime | None,
    limit: int | None,
) -> LineageGraph:
    node, row = resolve(conn, node_id)
    run_nodes: list[Node] = []
    run_io: list[tuple[int, str]] = []
    found: dict[int, int] = {}
    for up in (up for up in (True, False) if direction in ("both", _DIR[up])):
        if node.kind == "run":
            io_dir = "input" if up else "output"
            seed, params = _RUN_SEED, {"run_id": row.run_id, "dir": io_dir}
            run_io.extend(
                (int(d), io_dir)
                for d in conn.execute(
                    select(t.RunIO.dataset_id).where(
                        t.RunIO.run_id == row.run_id, t.RunIO.direction == io_dir
                    )
                ).scalars()
            )
        else:
            seed, params = _NODE_SEED, {"start": row.id}
        for node_pk, d in walk(conn, seed, params, up, depth, as_of, limit).items():
            found[node_pk] = min(d, found.get(node_pk, d))
    if node.kind == "run":
        run_nodes.append(Node(str(node), "run", "", row.run_id, 0, {"state": row.state}))
    is_partial = bool(limit) and len(found) > (limit or 0)
    if limit and is_partial:
        found = dict(sorted(found.items(), key=lambda kv: (kv[1], kv[0]))[:limit])
    nodes, names, kinds = _load_nodes(conn, found)
    edges = [
        Edge(names[s], names[d], "input" if kind == "dataset" else "output", iso(f), iso(ls))
        for s, d, f, ls, kind in _load_edges(conn, list(names), kinds, as_of)
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


def _load_nodes(conn: Connection, found: dict[int, int]) -> tuple[list[Node], dict[int, str], dict[int, str]]:
    """The found nodes (columns a lineage answer shows, not whole facets), their ids and kinds."""
    rows: list[Any] = []
    query = statement(conn, "reads.nodes", _nodes_query)
    for chunk in _chunks(list(found)):
        rows.extend(conn.execute(query, {"ids": list(chunk)}).all())
    runs = _latest_runs(conn, rows)
    nodes = sorted((_node(r, found[r.id], runs) for r in rows), key=lambda n: (n.depth, n.id))
    names = {r.id: node_text(r.kind, r.namespace, r.name) for r in rows}
    return nodes, names, {r.id: r.kind for r in rows}


def _nodes_query(_conn: Connection) -> Any:
    n = t.Node
    fields = n.facets["schema"]["fields"].label("schema_fields")
    columns = (n.id, n.kind, n.namespace, n.name, n.type, n.current_version, n.latest_run_id, fields)
    return select(*columns).where(n.id.in_(bindparam("ids", expanding=True)))


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


def _load_edges(
    conn: Connection, ids: list[int], kinds: dict[int, str], as_of: datetime | None
) -> list[tuple[Any, ...]]:
    """Edges between found nodes: (src, dst, first_seen, last_seen, kind of src)."""
    wanted = set(ids)
    result: list[tuple[Any, ...]] = []
    query = statement(conn, "reads.edges", _edges_query)
    for chunk in _chunks(ids):
        for row in conn.execute(query, {"ids": list(chunk)}):
            if row.dst in wanted and (as_of is None or row.first_seen <= as_of):
                result.append(tuple(row))
    return sorted((s, d, f, ls, kinds[s]) for s, d, f, ls in result)


def _edges_query(_conn: Connection) -> Any:
    e = t.Edge
    ids: Any = bindparam("ids", expanding=True)
    return select(e.src, e.dst, e.first_seen, e.last_seen).where(e.src.in_(ids))

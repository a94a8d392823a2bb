"""Column lineage as a graph of dataset fields, shaped as Marquez's ``GET /column-lineage`` answer.

From a dataset (all its fields) or one ``datasetField:<ns>:<name>:<field>``, walk the column lineage
table upstream (the input fields each field was computed from) and, on request, downstream (the
fields computed from it), ``depth`` field-to-field hops, at most ``max_fields`` fields. Fields of
datasets the reader may not see are left out together with their edges, and the walk neither counts
them against ``max_fields`` nor goes on through them, so ``isPartial`` never says that they exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core.ids import parse
from airflow_lineage_provider.exceptions import InvalidQueryError, NodeNotFoundError
from airflow_lineage_provider.store import declared as declared_edges
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store import visibility
from airflow_lineage_provider.store.marquez import fields as schema_fields
from airflow_lineage_provider.store.reads import find_node_row
from airflow_lineage_provider.store.scoped import dataset_views
from airflow_lineage_provider.store.visibility import Scope

Key = tuple[int, str]  # (dataset primary key, field name)
Step = tuple[Key, Key, list[Any], bool]  # (input field, output field, transformations, declared)


@dataclass(frozen=True)
class ColumnGraph:
    nodes: list[dict[str, Any]]
    is_partial: bool


def _start(
    conn: Connection, scope: Scope, row: Any, field: str | None, downstream: bool, declared: bool
) -> set[Key]:
    if field is not None:
        return {(row.id, field)}
    names = {f["name"] for f in schema_fields(dataset_views(conn, scope, [row])[row.id].facets)}
    cl = t.ColumnLineage
    shown = visibility.run_condition(cl.run_id, scope)
    names.update(conn.execute(select(cl.output_field).where(cl.output_dataset_id == row.id, shown)).scalars())
    if downstream:
        names.update(
            conn.execute(select(cl.input_field).where(cl.input_dataset_id == row.id, shown)).scalars()
        )
    if declared:
        names.update(dst[1] for _, dst, _ in declared_edges.field_edges(conn, [row.id], True, scope))
        if downstream:
            names.update(src[1] for src, _, _ in declared_edges.field_edges(conn, [row.id], False, scope))
    return {(row.id, name) for name in names}


def _step(conn: Connection, scope: Scope, frontier: set[Key], upstream: bool, declared: bool) -> list[Step]:
    """Field edges one hop from the frontier fields: column lineage recorded by runs the reader may
    see, then (``declared``) declared field entries the reader may see."""
    cl = t.ColumnLineage
    ds_col = cl.output_dataset_id if upstream else cl.input_dataset_id
    found: list[Step] = []
    pks = sorted({pk for pk, _ in frontier})
    for start in range(0, len(pks), 1000):
        query = select(cl).where(
            ds_col.in_(pks[start : start + 1000]), visibility.run_condition(cl.run_id, scope)
        )
        for r in conn.execute(query):
            src, dst = (r.input_dataset_id, r.input_field), (r.output_dataset_id, r.output_field)
            if (dst if upstream else src) in frontier:
                found.append((src, dst, r.transformations or [], False))
    if declared:
        for src, dst, transformations in declared_edges.field_edges(conn, pks, upstream, scope):
            if (dst if upstream else src) in frontier:
                found.append((src, dst, transformations, True))
    return found


def column_lineage(
    conn: Connection,
    scope: Scope,
    node_id: str,
    depth: int,
    downstream: bool,
    max_fields: int,
    declared: bool = True,
) -> ColumnGraph:
    node = parse(node_id)
    if node.kind not in ("dataset", "datasetField"):
        raise InvalidQueryError(f"column lineage needs a dataset or datasetField node, not {node_id}")
    row = find_node_row(conn, node)
    if row is None or row.kind != "dataset" or not visibility.visible_node_pks(conn, [row.id], scope):
        raise NodeNotFoundError(node_id)
    seen = _start(conn, scope, row, node.field, downstream, declared)
    edges: dict[tuple[Key, Key], tuple[list[Any], bool]] = {}
    frontiers = {True: set(seen), False: set(seen) if downstream else set()}
    partial = False
    shown, checked = {row.id}, {row.id}
    for _ in range(depth):
        for upstream, frontier in frontiers.items():
            found: set[Key] = set()
            for src, dst, transformations, is_declared in (
                _step(conn, scope, frontier, upstream, declared) if frontier else []
            ):
                if not is_declared or (src, dst) not in edges:  # observed wins over declared
                    edges[(src, dst)] = (transformations, is_declared)
                found.add(src if upstream else dst)
            # fields of datasets the reader may not see are neither counted, shown nor walked through
            new = {pk for pk, _ in found} - checked
            shown |= visibility.visible_node_pks(conn, new, scope)
            checked |= new
            found = {key for key in found if key[0] in shown}
            frontiers[upstream] = found - seen
            seen |= found
        if len(seen) > max_fields:
            partial = True
            break
    return ColumnGraph(_nodes(conn, scope, seen, edges), partial)


def _nodes(
    conn: Connection, scope: Scope, keys: set[Key], edges: dict[tuple[Key, Key], tuple[list[Any], bool]]
) -> list[dict[str, Any]]:
    pks = sorted({pk for pk, _ in keys})
    shown = visibility.visible_node_pks(conn, pks, scope)
    datasets = {
        r.id: r
        for start in range(0, len(pks), 1000)
        for r in conn.execute(select(t.Node).where(t.Node.id.in_(pks[start : start + 1000])))
        if r.id in shown
    }
    views = dataset_views(conn, scope, datasets.values())
    types = {pk: {f["name"]: f["type"] for f in schema_fields(views[pk].facets)} for pk in datasets}

    def ident(key: Key) -> str:
        ds = datasets[key[0]]
        return f"datasetField:{ds.namespace}:{ds.name}:{key[1]}"

    kept = {k for k in keys if k[0] in datasets}
    into: dict[Key, list[tuple[Key, list[Any], bool]]] = {}
    out_of: dict[Key, list[tuple[Key, bool]]] = {}
    for (s, d), (tr, is_declared) in sorted(edges.items()):
        if s in kept and d in kept:
            into.setdefault(d, []).append((s, tr, is_declared))
            out_of.setdefault(s, []).append((d, is_declared))
    nodes = []
    for key in sorted(kept, key=ident):
        ds = datasets[key[0]]
        inputs = into.get(key, [])
        first = inputs[0][1][0] if inputs and inputs[0][1] and isinstance(inputs[0][1][0], dict) else {}
        data = {
            "namespace": ds.namespace,
            "dataset": ds.name,
            "datasetVersion": None,
            "field": key[1],
            "fieldType": types[key[0]].get(key[1]),
            "transformationDescription": first.get("description"),
            "transformationType": first.get("subtype") or first.get("type"),
            "inputFields": [_input(datasets[s[0]], s[1], tr, dec) for s, tr, dec in inputs],
        }
        nodes.append(
            {
                "id": ident(key),
                "type": "DATASET_FIELD",
                "data": data,
                "inEdges": [
                    {"origin": ident(s), "destination": ident(key), "declared": dec} for s, _, dec in inputs
                ],
                "outEdges": [
                    {"origin": ident(key), "destination": ident(d), "declared": dec}
                    for d, dec in out_of.get(key, [])
                ],
            }
        )
    return nodes


def _input(ds: Any, field: str, transformations: list[Any], declared: bool) -> dict[str, Any]:
    first = transformations[0] if transformations and isinstance(transformations[0], dict) else {}
    return {
        "namespace": ds.namespace,
        "dataset": ds.name,
        "datasetVersion": None,
        "field": field,
        "transformationDescription": first.get("description"),
        "transformationType": first.get("subtype") or first.get("type"),
        "transformations": transformations,
        "declared": declared,
    }

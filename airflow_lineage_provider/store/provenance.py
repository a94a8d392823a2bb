"""Version-exact walks: which runs made a dataset version, and what a dataset version fed.

Unlike the job-level graph of :mod:`.reads`, these follow ``lineage_run_io`` and
``lineage_dataset_versions``: from a version to the run that wrote it, to the exact versions that
run read, and so on back to raw sources (provenance); or from a version to the runs that read it
and the versions they wrote, and so on forward (impact). Every step is a run, so the answer says
which run used which version.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.ids import node_text
from airflow_lineage_provider.store import tables as t

MAX_RUNS = 1000
Shown = Callable[[str], bool]  # whether the reader may see a run (store.visibility); default: all


def _all(_run_id: str) -> bool:
    return True


def producer(conn: Connection, dataset_pk: int, version: str, shown: Shown = _all) -> str | None:
    """The run that wrote ``version`` of a dataset, when the store knows it and the reader may see it."""
    found: str | None = conn.execute(
        select(t.DatasetVersion.run_id).where(
            t.DatasetVersion.dataset_id == dataset_pk, t.DatasetVersion.version == version
        )
    ).scalar()
    return found if found is not None and shown(found) else None


def _node_ids(conn: Connection, pks: set[int]) -> dict[int, tuple[str, str | None]]:
    rows = conn.execute(select(t.Node).where(t.Node.id.in_(sorted(pks)))).all() if pks else []
    return {r.id: (node_text(r.kind, r.namespace, r.name), r.type) for r in rows}


def _run(conn: Connection, run_id: str) -> tuple[Any, str]:
    run = conn.execute(select(t.Run).where(t.Run.run_id == run_id)).first()
    job = (
        ""
        if run is None
        else node_text(
            "job", *conn.execute(select(t.Node.namespace, t.Node.name).where(t.Node.id == run.job_id)).one()
        )
    )
    return run, job


def _io(conn: Connection, run_id: str, direction: str) -> list[tuple[int, str | None]]:
    return [
        (int(r.dataset_id), r.version)
        for r in conn.execute(
            select(t.RunIO.dataset_id, t.RunIO.version).where(
                t.RunIO.run_id == run_id, t.RunIO.direction == direction
            )
        )
    ]


def _step(conn: Connection, run_id: str) -> dict[str, Any]:
    run, job = _run(conn, run_id)
    return {
        "runId": run_id,
        "job": job,
        "state": None if run is None else run.state,
        "startedAt": None if run is None else iso(run.started_at),
        "endedAt": None if run is None else iso(run.ended_at),
        "inputs": _io(conn, run_id, "input"),
        "outputs": _io(conn, run_id, "output"),
    }


def _named(conn: Connection, steps: list[dict[str, Any]], shown: Shown = _all) -> None:
    """Replace dataset primary keys in steps by node ids, with each input's producing run."""
    pks = {pk for s in steps for side in ("inputs", "outputs") for pk, _ in s[side]}
    names = _node_ids(conn, pks)
    for step in steps:
        for side in ("inputs", "outputs"):
            step[side] = [
                {
                    "id": names[pk][0],
                    "type": names[pk][1],
                    "version": version,
                    **(
                        {"producedBy": producer(conn, pk, version, shown) if version else None}
                        if side == "inputs"
                        else {}
                    ),
                }
                for pk, version in sorted(step[side], key=lambda io: names[io[0]][0])
            ]


def provenance(conn: Connection, dataset_pk: int, version: str, shown: Shown = _all) -> dict[str, Any]:
    """Runs back from one dataset version to its raw sources, with the exact versions each run read."""
    steps: list[dict[str, Any]] = []
    seen: set[str] = set()
    queue: deque[tuple[int, str]] = deque([(dataset_pk, version)])
    while queue and len(seen) < MAX_RUNS:
        pk, ver = queue.popleft()
        run_id = producer(conn, pk, ver, shown)
        if run_id is None or run_id in seen:
            continue
        seen.add(run_id)
        step = _step(conn, run_id)
        steps.append(step)
        queue.extend((in_pk, in_ver) for in_pk, in_ver in step["inputs"] if in_ver)
    _named(conn, steps, shown)
    inputs = [i for s in steps for i in s["inputs"]]
    return {
        "steps": steps,
        "sources": sorted({i["id"] for i in inputs if i["producedBy"] is None and i["type"] != "MODEL"}),
        "unversionedInputs": sorted({i["id"] for i in inputs if i["version"] is None}),
        "isPartial": bool(queue),
    }


def impact(conn: Connection, dataset_pk: int, version: str | None, shown: Shown = _all) -> dict[str, Any]:
    """Runs fed by a dataset (one version, or any), transitively, and every model version they made."""
    steps: list[dict[str, Any]] = []
    seen: set[str] = set()
    queue: deque[tuple[int, str | None]] = deque([(dataset_pk, version)])
    visited: set[tuple[int, str | None]] = set()
    while queue and len(seen) < MAX_RUNS:
        pk, ver = queue.popleft()
        if (pk, ver) in visited:
            continue
        visited.add((pk, ver))
        readers = select(t.RunIO.run_id).where(t.RunIO.dataset_id == pk, t.RunIO.direction == "input")
        if ver is not None:
            readers = readers.where(t.RunIO.version == ver)
        for run_id in sorted(r for r in set(conn.execute(readers).scalars()) - seen if shown(r)):
            seen.add(run_id)
            step = _step(conn, run_id)
            steps.append(step)
            queue.extend((out_pk, out_ver) for out_pk, out_ver in step["outputs"] if out_ver)
    _named(conn, steps, shown)
    models = {
        (o["id"], o["version"], s["runId"]): {
            "id": o["id"],
            "version": o["version"],
            "runId": s["runId"],
            "job": s["job"],
        }
        for s in steps
        for o in s["outputs"]
        if o["type"] == "MODEL"
    }
    return {
        "models": sorted(models.values(), key=lambda m: (m["id"], m["runId"])),
        "steps": steps,
        "isPartial": bool(queue),
    }

"""Version-exact walks: which runs made a dataset version, and what a dataset version fed.

Unlike the job-level graph of :mod:`.reads`, these follow ``lineage_run_io`` and
``lineage_dataset_versions``: from a version to the run that wrote it, to the exact versions that
run read, and so on back to raw sources (provenance); or from a version to the runs that read it
and the versions they wrote, and so on forward (impact). Every step is a run, so the answer says
which run used which version. An input read with another content fingerprint than its producer
wrote is marked ``changedBeforeRead`` (:mod:`.fingerprints`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlalchemy import Connection, or_, select

from airflow_lineage_provider.core.events import iso
from airflow_lineage_provider.core.ids import node_text
from airflow_lineage_provider.store import fingerprints
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


def shown_version(conn: Connection, dataset_pk: int, version: str | None, shown: Shown) -> str | None:
    """``version`` of a dataset, or None when a run the reader may not see wrote it."""
    writer = producer(conn, dataset_pk, version) if version else None
    return None if writer is not None and not shown(writer) else version


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
        "row": run,
        "runId": run_id,
        "job": job,
        "state": None if run is None else run.state,
        "startedAt": None if run is None else iso(run.started_at),
        "endedAt": None if run is None else iso(run.ended_at),
        "inputs": _io(conn, run_id, "input"),
        "outputs": _io(conn, run_id, "output"),
    }


def _named(
    conn: Connection, steps: list[dict[str, Any]], shown: Shown = _all, read: Read | None = None
) -> None:
    """Replace dataset primary keys in steps by node ids, with where each input's version came from
    (:func:`read_from`; ``read``: what it already found for (run, dataset))."""
    pks = {pk for s in steps for side in ("inputs", "outputs") for pk, _ in s[side]}
    names = _node_ids(conn, pks)
    reads = fingerprints.Reads(conn, [s["runId"] for s in steps if s["inputs"]])
    for step in steps:
        reader = step.pop("row", None)
        step["outputs"] = [
            {"id": names[pk][0], "type": names[pk][1], "version": version}
            for pk, version in sorted(step["outputs"], key=lambda io: names[io[0]][0])
        ]
        inputs = []
        for pk, version in sorted(step["inputs"], key=lambda io: names[io[0]][0]):
            found = (read or {}).get((step["runId"], pk))
            if found is None:
                found = read_from(conn, pk, version, reader, shown) if version and reader else Origin(None)
            item = {"id": names[pk][0], "type": names[pk][1], "version": version, "producedBy": found.run}
            if found.observed is not None:
                item["observedVersion"] = found.observed
            if found.hidden:
                item.update(version=None, origin="restricted")
            elif found.run is None:
                item["origin"] = "unproduced" if _written(conn, pk, shown) else "source"
            if not found.hidden:  # a hidden writer's fingerprint is its version's content: not shown
                fingerprints.mark_input(conn, item, pk, step["runId"], found.observed or version, reads)
            inputs.append(item)
        step["inputs"] = inputs


class Origin(NamedTuple):
    """Where the version a run read came from: the run that wrote it, and for a label no run wrote,
    the version it stood for (the one current when it was read)."""

    run: str | None
    observed: str | None = None
    hidden: bool = False  # a run the reader may not see wrote it: its name is not shown either


Read = dict[tuple[str, int], Origin]


def read_from(conn: Connection, pk: int, version: str, reader: Any, shown: Shown = _all) -> Origin:
    """The run that made the version ``reader`` (a run row) read of a dataset.

    A version no run wrote is a label: an alias of the version current when the run read it (the
    newest one written before the run started, by a run the reader may see, not the run itself)."""
    exact = conn.execute(
        select(t.DatasetVersion.run_id).where(
            t.DatasetVersion.dataset_id == pk, t.DatasetVersion.version == version
        )
    ).first()
    if exact is not None:
        if exact.run_id is not None and not shown(exact.run_id):
            return Origin(None, hidden=True)
        return Origin(exact.run_id)
    dv = t.DatasetVersion
    query = select(dv.version, dv.run_id).where(
        dv.dataset_id == pk, dv.run_id.is_not(None), dv.run_id != reader.run_id
    )
    read_at = reader.started_at or reader.ended_at
    if read_at is not None:
        query = query.where(dv.created_at <= read_at)
    for row in conn.execute(query.order_by(dv.created_at.desc(), dv.id.desc()).limit(MAX_RUNS)):
        if row.run_id is not None and shown(row.run_id):
            return Origin(row.run_id, row.version)
    return Origin(None)


def _written(conn: Connection, pk: int, shown: Shown) -> bool:
    """Whether a run the reader may see wrote any version of the dataset."""
    runs = select(t.DatasetVersion.run_id).where(
        t.DatasetVersion.dataset_id == pk, t.DatasetVersion.run_id.is_not(None)
    )
    return any(run is not None and shown(run) for run in conn.execute(runs.limit(MAX_RUNS)).scalars())


def provenance(conn: Connection, dataset_pk: int, version: str, shown: Shown = _all) -> dict[str, Any]:
    """Runs back from one dataset version to its raw sources, with the exact versions each run read
    (a label no run wrote followed through the version it stood for: :func:`read_from`)."""
    steps: list[dict[str, Any]] = []
    seen: set[str] = set()
    read: Read = {}
    queue: deque[str] = deque()
    first = producer(conn, dataset_pk, version, shown)
    if first is not None:
        queue.append(first)
    while queue and len(seen) < MAX_RUNS:
        run_id = queue.popleft()
        if run_id in seen:
            continue
        seen.add(run_id)
        step = _step(conn, run_id)
        steps.append(step)
        reader = step["row"]
        for in_pk, in_ver in step["inputs"]:
            if not in_ver or reader is None:
                continue
            origin = read[(run_id, in_pk)] = read_from(conn, in_pk, in_ver, reader, shown)
            if origin.run is not None:
                queue.append(origin.run)
    _named(conn, steps, shown, read)
    inputs = [i for s in steps for i in s["inputs"]]
    return {
        "steps": steps,
        "sources": sorted({i["id"] for i in inputs if i.get("origin") == "source" and i["type"] != "MODEL"}),
        "unproducedInputs": sorted(
            {
                f"{i['id']} @ {i['version']}"
                for i in inputs
                if i.get("origin") == "unproduced" and i["version"]
            }
        ),
        "unversionedInputs": sorted(
            {i["id"] for i in inputs if i["version"] is None and i.get("origin") != "restricted"}
        ),
        # read with another fingerprint than its producer wrote: changed between the two tasks
        "changedBeforeRead": sorted(
            {f"{i['id']} @ {i['version']}" for s in steps for i in s["inputs"] if i.get("changedBeforeRead")}
        ),
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
        readers = select(t.RunIO.run_id, t.RunIO.version).where(
            t.RunIO.dataset_id == pk, t.RunIO.direction == "input"
        )
        if ver is not None:  # that version, or a label no run wrote that stood for it (read_from)
            written = select(t.DatasetVersion.version).where(t.DatasetVersion.dataset_id == pk)
            readers = readers.where(or_(t.RunIO.version == ver, t.RunIO.version.not_in(written)))
        found = {r.run_id: r.version for r in conn.execute(readers)}
        for run_id in sorted(r for r in set(found) - seen if shown(r)):
            step = _step(conn, run_id)
            label = found[run_id]
            if (
                ver is not None
                and label != ver
                and read_from(conn, pk, label, step["row"], shown).observed != ver
            ):
                continue
            seen.add(run_id)
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

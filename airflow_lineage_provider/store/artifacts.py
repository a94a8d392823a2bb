"""Verification of the artifacts behind a dataset version: is each still the data that was recorded?

Walks the version's provenance (:mod:`.provenance`) and takes the fingerprint of every dataset
version it names again, where it is reachable from this process (a file on this machine, an object
in a store fsspec can reach with the credentials it finds, a SQLite table), and compares it with the
one recorded (:mod:`.fingerprints`): for an input, the one its reader took when it read it; for an
output, the one its producer wrote. Each artifact gets one status:

* ``matches``: the same fingerprint;
* ``changed``: another fingerprint (the data changed since it was recorded);
* ``missing``: no file, object or table by that name any more;
* ``not checkable``: with the reason (no fingerprint was recorded, no way to take one here, ...).

A file recorded ``sampled`` is sampled again the same way whatever the current size limit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core import fingerprints as measured
from airflow_lineage_provider.core.ids import node_text
from airflow_lineage_provider.store import fingerprints, provenance, runrecords
from airflow_lineage_provider.store import tables as t

MATCHES, CHANGED, MISSING, NOT_CHECKABLE = "matches", "changed", "missing", "not checkable"
_WHOLE = 2**62


def check(
    namespace: str, name: str, expected: dict[str, Any] | None, count_rows: measured.Counter | None = None
) -> tuple[str, str]:
    """The status of one dataset against the fingerprint recorded for it, and why (``count_rows``:
    how to count a PostgreSQL table's rows, when the caller has a connection)."""
    if expected is None:
        return NOT_CHECKABLE, "no fingerprint was recorded"
    size = expected.get("size")
    max_bytes = max(int(size) - 1, 0) if expected.get("sampled") and isinstance(size, int) else _WHOLE
    try:
        found = measured.measure(namespace, name, max_bytes, count_rows=count_rows)
    except measured.MissingError as exc:
        return MISSING, str(exc)
    except measured.NotCheckableError as exc:
        return NOT_CHECKABLE, str(exc)
    except OSError as exc:
        return NOT_CHECKABLE, f"cannot read it: {type(exc).__name__}: {exc}"
    verdict = measured.same(expected, found)
    if verdict is None:
        now = found.get("algorithm")
        return NOT_CHECKABLE, f"recorded as {expected.get('algorithm')}, taken now as {now}"
    if verdict:
        return MATCHES, f"{found['algorithm']} {str(found['digest'])[:16]}"
    return CHANGED, f"recorded {str(expected['digest'])[:16]}, now {str(found['digest'])[:16]}"


def _io(conn: Connection, run_ids: list[str]) -> list[Any]:
    return list(
        conn.execute(
            select(t.RunIO.run_id, t.RunIO.direction, t.RunIO.dataset_id, t.RunIO.version, t.Node.namespace)
            .add_columns(t.Node.name)
            .join(t.Node, t.Node.id == t.RunIO.dataset_id)
            .where(t.RunIO.run_id.in_(run_ids))
            .order_by(t.Node.name, t.RunIO.run_id)
        )
    )


def verify(
    conn: Connection,
    dataset_pk: int,
    version: str,
    shown: provenance.Shown,
    count_rows: measured.Counter | None = None,
) -> dict[str, Any]:
    """Each artifact of a dataset version's provenance with its status (see the module docstring)."""
    walk = provenance.provenance(conn, dataset_pk, version, shown)
    root = conn.execute(select(t.Node.namespace, t.Node.name).where(t.Node.id == dataset_pk)).one()
    # (dataset, version) -> namespace, name, what recorded it, the fingerprint recorded
    found: dict[tuple[int, str | None], tuple[str, str, str, dict[str, Any] | None]] = {
        (dataset_pk, version): (
            root.namespace,
            root.name,
            "the version asked for",
            fingerprints.written(conn, dataset_pk, version),
        )
    }
    for row in _io(conn, [s["runId"] for s in walk["steps"]]):
        key = (int(row.dataset_id), row.version)
        if row.direction == "input":
            seen = fingerprints.read(conn, row.run_id, row.dataset_id)
            if seen is not None or key not in found:
                written = fingerprints.written(conn, row.dataset_id, row.version)
                found[key] = (row.namespace, row.name, f"read by run {row.run_id}", seen or written)
        elif key not in found:
            recorded = fingerprints.written(conn, row.dataset_id, row.version)
            found[key] = (row.namespace, row.name, f"written by run {row.run_id}", recorded)
    artifacts = []
    for (_, ver), (namespace, name, recorded_by, expected) in found.items():
        status, detail = check(namespace, name, expected, count_rows)
        artifacts.append(
            {
                "id": node_text("dataset", namespace, name),
                "version": ver,
                "status": status,
                "detail": detail,
                "recordedBy": recorded_by,
                "fingerprint": expected,
            }
        )
    artifacts.sort(key=lambda a: (a["id"], str(a["version"])))
    counts = {s: sum(a["status"] == s for a in artifacts) for s in (MATCHES, CHANGED, MISSING, NOT_CHECKABLE)}
    return {
        "ok": counts[CHANGED] == 0 and counts[MISSING] == 0,
        "counts": counts,
        "artifacts": artifacts,
        "changedBeforeRead": walk["changedBeforeRead"],
        "isPartial": walk["isPartial"],
    }


def inputs_check(result: dict[str, Any]) -> dict[str, Any]:
    """The reproducibility check "inputs still byte-identical" from a :func:`verify` result: required
    once any input was fingerprinted; passes when no input read changed or went missing since."""
    inputs = [a for a in result["artifacts"] if a["recordedBy"].startswith("read by")]
    recorded = [a for a in inputs if a["fingerprint"] is not None]
    bad = [f"{a['id']} {a['status']} ({a['detail']})" for a in inputs if a["status"] in (CHANGED, MISSING)]
    matching = sum(a["status"] == MATCHES for a in inputs)
    if not recorded:
        missing = "no fingerprint recorded of any input"
    else:
        missing = "; ".join(bad) or "no input could be checked here"
    return runrecords._check(
        "inputs still byte-identical",
        bool(recorded) and not bad and matching > 0,
        f"{matching} of {len(inputs)} inputs match what was read",
        missing,
        required=bool(recorded),
    )

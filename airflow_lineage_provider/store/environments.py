"""Installed-distribution lists of reproducibility records, kept once per distinct hash.

A task run's ``airflowLineage_reproducibility`` facet may carry ``environment.distributions`` (the
full ``name==version`` list) beside ``environment.distributionsHash``. Before an event is stored the
list is moved out into ``lineage_environments`` (once per hash) and the raw event keeps the hash, so
hundreds of runs in one image store the list once. A list whose hash does not match is left as sent.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from airflow_lineage_provider.core.digests import distributions_hash
from airflow_lineage_provider.core.events import ParsedEvent
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store.upserts import bulk, insert

FACET = "airflowLineage_reproducibility"


def detach(event: ParsedEvent) -> tuple[ParsedEvent, tuple[str, list[str]] | None]:
    """The event without its distribution list, and (hash, list) when there was a valid one."""
    run = event.payload.get("run")
    if not isinstance(run, dict) or not isinstance(run.get("facets"), dict):
        return event, None
    facet = run["facets"].get(FACET)
    environment = facet.get("environment") if isinstance(facet, dict) else None
    if not isinstance(facet, dict) or not isinstance(environment, dict):
        return event, None
    if not isinstance(environment.get("distributions"), list):
        return event, None
    listed = environment["distributions"]
    if not all(isinstance(d, str) for d in listed) or environment.get("distributionsHash") != (
        distributions_hash(listed)
    ):
        return event, None
    kept = {k: v for k, v in environment.items() if k != "distributions"}
    facets = {**run["facets"], FACET: {**facet, "environment": kept}}
    payload = {**event.payload, "run": {**run, "facets": facets}}
    return replace(event, payload=payload, encoded=None), (environment["distributionsHash"], sorted(listed))


def _insert_new(conn: Connection) -> Any:
    return insert(conn, t.Environment).on_conflict_do_nothing(index_elements=["hash"])


def save(conn: Connection, found: dict[str, list[str]], now: datetime, known: Set[str] = frozenset()) -> None:
    """Insert the lists whose hash is not stored yet; ``known``: hashes this store saved before (a
    task process sends the same list with every event: after the first, nothing is written)."""
    rows = [
        {"hash": digest, "distributions": listed, "created_at": now}
        for digest, listed in found.items()
        if digest not in known
    ]
    bulk(conn, "environments.new", _insert_new, rows)


def distributions(conn: Connection, digest: str | None) -> list[str] | None:
    """The stored list of a hash, or None when it was never recorded."""
    if not digest:
        return None
    found: Any = conn.execute(
        select(t.Environment.distributions).where(t.Environment.hash == digest)
    ).scalar()
    return None if found is None else [str(d) for d in found]

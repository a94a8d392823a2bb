"""Replaying the outbox on demand (``airflow-lineage replay``); :mod:`.deliverer` delivers as events come."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_lineage_provider.emit.outbox import DrainResult, Outbox, configured_outbox

if TYPE_CHECKING:
    from airflow_lineage_provider.store.lineagestore import LineageStore


def replay(store: LineageStore, outbox: Outbox | None = None, *, wait: bool = True) -> DrainResult:
    """Deliver every pending event of ``outbox`` (default: the configured one) into ``store``."""
    box = outbox or configured_outbox()
    return box.drain(store.record_many, wait=wait)

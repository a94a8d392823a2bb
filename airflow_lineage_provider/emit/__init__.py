"""Delivery of OpenLineage events: emitters behind one small seam, and the time budget they run in."""

from __future__ import annotations

from airflow_lineage_provider.emit.base import Emitter
from airflow_lineage_provider.emit.budget import run_within_budget
from airflow_lineage_provider.emit.registry import create_emitter

__all__ = ["Emitter", "create_emitter", "run_within_budget"]

"""Node rows a long-lived ``LineageStore`` keeps between batches, so a batch need not read them again.

A batch reads every node it names (:meth:`.graphstate.GraphState.load_nodes`): their facets to merge,
their current version, their latest run. Writers append under the chain head's lock and every append
moves the head (:func:`.chain.lock`), so a writer that finds the head where its own last commit left
it knows no other writer has changed a node since: the rows it kept are the stored ones. When the head
moved (another writer, another process, a prune or erase that resealed), everything kept is forgotten.

Two changes move no head: an erase whose dataset no stored event mentions any more (its events were
pruned) and the refill of an upgrade. Both set ``updated_at``, so a kept row is used only when the
stored row's ``updated_at`` is still the kept one (one narrow indexed read instead of whole rows
with their facets). Rows are kept only after their transaction committed; a store erasing or pruning
forgets them itself. The cache holds at most ``limit`` nodes (beyond that it starts again empty).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from airflow_lineage_provider.store.chain import Head

LIMIT = 20_000  # rows hold parsed facets (a few KiB each with a schema): tens of MiB at most


class NodeCache:
    """Node rows (column values by name) by node key, valid at one chain head."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._lock = threading.Lock()  # the api-server writes from several threads
        self._head: Head | None = None
        self._rows: dict[str, dict[str, Any]] = {}
        self.limit = limit

    def take(self, head: Head, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Copies of the kept rows of ``keys`` when the chain head is still ``head``; else none (and
        everything kept is forgotten)."""
        with self._lock:
            if head != self._head:
                self._head, self._rows = None, {}
                return {}
            rows = self._rows
            return {k: dict(rows[k]) for k in keys if k in rows}

    def keep(self, head: Head, rows: Iterable[dict[str, Any]]) -> None:
        """Keep rows as stored by the transaction that committed at ``head``."""
        with self._lock:
            if len(self._rows) > self.limit:
                self._rows = {}
            self._rows.update((row["node_key"], row) for row in rows)
            self._head = head

    def forget(self) -> None:
        with self._lock:
            self._head, self._rows = None, {}

    def __len__(self) -> int:
        return len(self._rows)

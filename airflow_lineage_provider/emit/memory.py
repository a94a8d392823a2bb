"""``AccumulatingEmitter``: keeps events in memory (tests, and anything that inspects capture)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from airflow_lineage_provider.emit.serde import to_dict


class AccumulatingEmitter:
    """An in-memory emitter: every emitted event is appended to :attr:`events`."""

    kind: ClassVar[str] = "accumulating"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[Any] = []

    def emit(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)

    def close(self) -> None:
        """Nothing to release."""

    def dicts(self) -> list[dict[str, Any]]:
        """The events as OpenLineage JSON dicts, in emission order."""
        with self._lock:
            events = list(self.events)
        return [event if isinstance(event, dict) else to_dict(event) for event in events]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()

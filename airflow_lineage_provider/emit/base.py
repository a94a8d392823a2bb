"""The emitter contract: the one seam between capture and delivery.

An emitter receives finished OpenLineage events (openlineage-python ``RunEvent`` objects) and
delivers them somewhere: the lineage store in this process (``direct``), an in-memory list for
tests (``accumulating``), later an HTTP endpoint or a durable outbox.

Contract of :meth:`Emitter.emit`:

* it **never raises**: a delivery error is logged as one warning line and swallowed;
* it is **bounded in time**: delivery runs within the capture time budget
  (``[lineage_provider] emit_timeout``, see :func:`airflow_lineage_provider.emit.run_within_budget`);
* it may be called from several threads at once.

Emitters are chosen by ``kind`` through :func:`airflow_lineage_provider.emit.create_emitter`.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable


@runtime_checkable
class Emitter(Protocol):
    """Something that delivers OpenLineage events (see the module docstring for the contract)."""

    kind: ClassVar[str]

    def emit(self, event: Any) -> None:
        """Deliver one event; never raise."""

    def close(self) -> None:
        """Release what the emitter holds (connections, files); never raise."""

"""``OutboxEmitter``: what a task process does with an event — append it to the outbox and return.

The capture path of a task process ends here. The event (a plain JSON dict, built by capture) is
encoded with the standard library and written to the outbox (:meth:`Outbox.put`: written and closed
before :meth:`emit` returns, so it survives the death of the process); a long-lived deliverer
(:mod:`.deliverer`: the API server, or one the process starts on its host) validates and delivers it
to the store or the API server. Nothing here imports SQLAlchemy, the store, pydantic, jsonschema,
openlineage-python or FastAPI; ``tests/emit/test_task_imports.py`` pins that.

What cannot be written as JSON at all (NaN, a value that is not JSON) or is over
``max_event_bytes`` goes to the dead-letter file with the reason, as before. When the outbox itself
cannot be written (a full or read-only disk), the event is delivered synchronously instead, by the
configured target (:class:`~.durable.DurableEmitter`), so it is still not lost.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from typing import Any, ClassVar

from airflow_lineage_provider import conf
from airflow_lineage_provider.core.runids import run_event_key
from airflow_lineage_provider.emit import deliverer
from airflow_lineage_provider.emit.base import Emitter
from airflow_lineage_provider.emit.budget import budget_seconds, error_text, run_within_budget
from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.emit.serde import describe, max_event_bytes, to_dict, utf8
from airflow_lineage_provider.exceptions import ConfigError

log = logging.getLogger(__name__)


def _synced() -> bool:
    try:
        return conf.durability() == "host"
    except ConfigError as exc:
        log.warning("lineage: %s; using process", exc)
        return False


def encode(event: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The event and its compact UTF-8 JSON; strings holding bytes that were not UTF-8 (file names,
    mostly) are kept with those bytes written as ``\\xNN``. ``ValueError``/``TypeError``: not JSON."""
    text = json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return event, text.encode()
    except UnicodeEncodeError:
        event = utf8(event)
        return event, json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_key(event: dict[str, Any]) -> str:
    """The store's key of a run event (what ``core.events.parse_event`` computes), without validating it."""
    when = datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    run_id = str(uuid.UUID(str(event["run"]["runId"])))
    return run_event_key(run_id, str(event.get("eventType") or "OTHER"), when.isoformat())


class OutboxEmitter:
    """Appends each event to the outbox for a deliverer (see the module docstring)."""

    kind: ClassVar[str] = "outbox"

    def __init__(self, outbox: Outbox | None = None, fallback: Emitter | None = None) -> None:
        self._outbox = outbox
        self._fallback = fallback

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(conf.outbox_dir())
        return self._outbox

    def emit(self, event: Any) -> None:
        run_within_budget(
            lambda: self._emit(event), timeout=budget_seconds(), what="keeping an event in the outbox"
        )

    def _emit(self, event: Any) -> None:
        data = event if isinstance(event, dict) else to_dict(event)
        outbox = self.outbox
        try:
            data, text = encode(data)
            key = event_key(data)
        except (ValueError, TypeError, KeyError) as exc:
            outbox.dead_letter(data, f"cannot be kept as an OpenLineage run event: {error_text(exc)}")
            return
        limit = max_event_bytes()
        if len(text) > limit:
            reason = (
                f"event is {len(text)} bytes, over [lineage_provider] max_event_bytes = {limit} "
                "(huge SQL or schema facets?)"
            )
            outbox.dead_letter(data, reason)
            return
        try:
            outbox.put(key, data, text, sync=_synced())
        except OSError as exc:
            log.warning(
                "lineage: cannot keep %s in the outbox %s (%s); delivering it now instead",
                describe(data),
                outbox.path,
                error_text(exc),
            )
            self._deliver_now(data)
            return
        deliverer.notify(outbox)

    def _deliver_now(self, event: dict[str, Any]) -> None:
        if self._fallback is None:
            from airflow_lineage_provider.emit.registry import create_emitter

            self._fallback = create_emitter(conf.emitter())
        self._fallback.emit(event)

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()

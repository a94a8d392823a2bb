"""``DurableEmitter``: synchronous delivery — write ahead to the outbox, deliver, drain.

Capture in a task process does not use it (it only appends to the outbox, :mod:`.spool`, and a
deliverer stores the events, :mod:`.deliverer`); the direct and http emitters built on it are the
deliverer's targets (their :meth:`~DurableEmitter.deliver`), what capture falls back to when the
outbox cannot be written, and an emitter for code that wants an event stored before it goes on.

For each event given to :meth:`~DurableEmitter.emit`, within the capture time budget:

1. validate it (an invalid or oversized event goes to the dead-letter file with the reason);
2. keep it in the outbox (:mod:`airflow_lineage_provider.emit.outbox`) *before* delivering, so a
   process killed mid-delivery leaves it there for replay;
3. deliver it (:meth:`DurableEmitter.deliver`, the subclass's part); on success remove it from the
   outbox, on failure leave it there and log one warning;
4. after a success, deliver a bounded number of older pending events (the automatic drain) with what
   is left of the budget.

A timeout leaves the event in the outbox as well; a late success removes it. The store keys events
by (run id, event type, event time), so an event both delivered late and replayed is stored once.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, ClassVar

from airflow_lineage_provider import conf
from airflow_lineage_provider.core.events import ParsedEvent, parse_event
from airflow_lineage_provider.emit.budget import (
    budget_deadline,
    budget_seconds,
    error_text,
    run_within_budget,
)
from airflow_lineage_provider.emit.outbox import Outbox
from airflow_lineage_provider.emit.serde import describe, max_event_bytes, to_dict, utf8
from airflow_lineage_provider.exceptions import InvalidEventError, LineageError

log = logging.getLogger(__name__)

CAPTURE_DRAIN_LIMIT = 50


def as_dict(event: Any) -> Any:
    """An openlineage-python event as its JSON dict; dicts and anything else as given."""
    if hasattr(event, "eventTime") and not isinstance(event, dict):
        return to_dict(event)
    return event


def validate(event: Any) -> tuple[ParsedEvent, bytes]:
    """Parse an event for delivery; raise :class:`InvalidEventError` when it can never be stored.

    Returns the parsed event and its compact JSON (UTF-8), which the outbox keeps. Names and values
    holding bytes that were not UTF-8 (file names, mostly) are kept with those bytes written as
    ``\\xNN``, rather than losing the whole event.
    """
    data = as_dict(event)
    try:
        parsed = parse_event(data)
    except InvalidEventError as exc:
        if "not valid UTF-8" not in exc.reason:
            raise
        parsed = parse_event(utf8(data))
    text = json.dumps(parsed.payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    limit = max_event_bytes()
    if len(text) > limit:
        raise InvalidEventError(
            f"event is {len(text)} bytes, over [lineage_provider] max_event_bytes = {limit} "
            "(huge SQL or schema facets?)"
        )
    return parsed, text


class DurableEmitter:
    """Base of emitters that deliver with the outbox (see the module docstring).

    Subclasses implement :meth:`deliver` (raise :class:`InvalidEventError` with ``index`` for an
    event that will never be accepted, any :class:`LineageError` or ``OSError`` when delivery failed
    for now) and :meth:`target` (where events go, for messages).
    """

    kind: ClassVar[str] = "durable"

    def __init__(self, outbox: Outbox | None = None) -> None:
        self._outbox = outbox

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(conf.outbox_dir())
        return self._outbox

    def deliver(self, events: list[dict[str, Any]]) -> None:
        """Deliver event dicts, all or nothing (subclasses). The events may come from outbox files
        (anyone who can write there can put anything in them): the target validates them."""
        raise NotImplementedError

    def deliver_validated(self, event: ParsedEvent) -> None:
        """Deliver one event this process built and :func:`validate` just checked; by default as
        :meth:`deliver` does. Only :meth:`_emit` calls it, never with what an outbox file holds."""
        self.deliver([event.payload])

    def target(self) -> str:
        return "the lineage store"

    def emit(self, event: Any) -> None:
        timeout = budget_seconds()
        run_within_budget(
            lambda: self._emit(event, timeout),
            timeout=timeout,
            what=f"recording {describe(event)} in {self.target()}",
        )

    def _emit(self, event: Any, timeout: float) -> None:
        # Under the listener's budget (extraction came first) the deadline is that budget's.
        deadline = budget_deadline() or time.monotonic() + timeout
        outbox = self.outbox
        data = as_dict(event)
        try:
            parsed, text = validate(data)
        except InvalidEventError as exc:
            outbox.dead_letter(data, str(exc), exc.field)
            return
        what = f"recording {describe(parsed.payload)} in {self.target()}"
        kept = None
        try:
            kept = outbox.put(parsed.key, parsed.payload, text)
        except OSError as exc:
            log.warning("lineage: cannot keep %s in the outbox %s: %s", what, outbox.path, error_text(exc))
        try:
            self.deliver_validated(parsed)
        except InvalidEventError as exc:
            outbox.dead_letter(parsed.payload, exc.reason, exc.field)
            if kept is not None:
                outbox.remove(kept)
            return
        except (LineageError, OSError) as exc:
            fate = f"kept in the outbox {outbox.pending_dir} for replay" if kept else "it is lost"
            log.warning("lineage: %s failed: %s; %s", what, error_text(exc), fate)
            return
        if kept is not None:
            outbox.remove(kept)
        # Events kept less than a budget ago may still be on their way from their own process.
        if time.monotonic() < deadline - timeout / 2 and outbox.has_pending(min_age=timeout):
            # Leave part of the budget unused: the drain is a bonus, the task must not wait on it.
            result = outbox.drain(
                self.deliver,
                limit=CAPTURE_DRAIN_LIMIT,
                deadline=deadline - timeout / 2,
                batch=25,
                min_age=timeout,
            )
            if result.delivered or result.dead:
                log.info(
                    "lineage: replayed %d pending events from the outbox (%d dead-lettered, %d left)",
                    result.delivered,
                    result.dead,
                    result.remaining,
                )

    def close(self) -> None:
        """Nothing to release here; subclasses release their connections."""

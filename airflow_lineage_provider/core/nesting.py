"""The one limit on how deeply JSON may nest, shared by ingest and every response.

Ingest refuses an event holding objects or arrays nested more than :data:`MAX_NESTING` levels deep
(the event object itself is level 1): :func:`check`, called by ``parse_event``. Responses wrap what
events hold in a few levels of their own and are serialized by pydantic, which stops at about 255
levels, so every event ingest accepts can be served by every read. The free-form JSON a response
returns (facets, raw events) also goes through :func:`clip` at the same limit, so data stored before
the limit existed cannot break a read either; it never changes what ingest accepts today.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from airflow_lineage_provider.exceptions import InvalidEventError

MAX_NESTING = 100
CLIPPED = f"(nested deeper than {MAX_NESTING} levels: left out)"
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_STEP = {"{": 1, "[": 1, "}": -1, "]": -1}


def exceeds(text: str, limit: int = MAX_NESTING) -> bool:
    """Whether JSON text nests objects and arrays more than ``limit`` levels deep (no parsing)."""
    if text.count("{") + text.count("[") <= limit:  # brackets inside strings only add to the count
        return False
    brackets = [_STEP[ch] for ch in _STRING.sub("", text) if ch in _STEP]
    return max(accumulate(brackets), default=0) > limit


def too_deep(value: Any, limit: int = MAX_NESTING) -> str | None:
    """The JSON path of the first object or array nested deeper than ``limit`` levels, or None."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 1)]
    while stack:
        item, path, level = stack.pop()
        children = (
            item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        )
        for key, child in children:
            if isinstance(child, (dict, list)):
                here = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"
                if level + 1 > limit:
                    return here
                stack.append((child, here, level + 1))
    return None


def check(encoded: str, payload: Any, index: int | None = None) -> None:
    """Ingest: refuse an event (its JSON text and its value) nested deeper than the limit."""
    if exceeds(encoded):
        raise InvalidEventError(
            f"nested more than {MAX_NESTING} levels deep (objects and arrays; the limit every read "
            "can serve)",
            field=too_deep(payload) or "$",
            index=index,
        )


def _clipped(value: Any, limit: int) -> Any:
    if not isinstance(value, (dict, list)):
        return value
    if limit <= 0:
        return CLIPPED
    if isinstance(value, dict):
        return {key: _clipped(item, limit - 1) for key, item in value.items()}
    return [_clipped(item, limit - 1) for item in value]


def clip(value: Any, limit: int = MAX_NESTING) -> Any:
    """Responses: ``value`` itself when it nests at most ``limit`` levels (always, for data ingest
    accepted), else a copy with what lies deeper replaced by a note."""
    if not isinstance(value, (dict, list)):
        return value
    try:
        if not exceeds(json.dumps(value, default=str), limit):
            return value
    except RecursionError:  # deeper than the encoder goes: certainly too deep
        pass
    return _clipped(value, limit)

"""What ingest reads leniently, as Marquez does, and how it says so.

Producers in the wild send events the spec would reject but Marquez stores: no ``schemaURL``, an
``eventTime`` without a time zone, or a 1-0-x ``schemaURL`` (``#/definitions/JobEvent``) where 2-0-x
writes ``#/$defs/JobEvent``. Ingest accepts them: the event type comes from the ``schemaURL``
fragment when it names one (either form, any spec version), else from the event's shape; a missing
``schemaURL`` is filled in from that type; a time without a zone is read as UTC. The raw event is
stored as sent, and each such reading is recorded on it as a :class:`Normalisation`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

EventKind = Literal["run", "dataset", "job"]
SPEC_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
_TYPE_NAMES: dict[str, EventKind] = {"RunEvent": "run", "DatasetEvent": "dataset", "JobEvent": "job"}
_NAMES: dict[EventKind, str] = {kind: name for name, kind in _TYPE_NAMES.items()}
_FRAGMENT = re.compile(r"#/(?:\$defs|definitions)/(RunEvent|DatasetEvent|JobEvent)\s*$")

Normalisation = dict[str, str]  # {"field": JSON path, "note": what ingest read or filled in}


def schema_url(kind: EventKind) -> str:
    """The 2-0-2 ``schemaURL`` of an event type."""
    return f"{SPEC_URL}#/$defs/{_NAMES[kind]}"


def named_kind(payload: dict[str, Any]) -> EventKind | None:
    """The event type the ``schemaURL`` fragment names (``#/$defs/X`` or ``#/definitions/X``)."""
    url = payload.get("schemaURL")
    if not isinstance(url, str):
        return None
    match = _FRAGMENT.search(url)
    return _TYPE_NAMES[match.group(1)] if match else None


def shape_kind(payload: dict[str, Any]) -> EventKind | None:
    """The event type the fields of an event point to: a run (or an eventType), a dataset, a job."""
    if "run" in payload or "eventType" in payload:
        return "run"
    if "dataset" in payload:
        return "dataset"
    if "job" in payload:
        return "job"
    return None


def filled_schema_url(payload: dict[str, Any], kind: EventKind) -> tuple[dict[str, Any], list[Normalisation]]:
    """The event to validate (with a ``schemaURL`` when it had none) and what was filled in."""
    if payload.get("schemaURL") not in (None, ""):
        return payload, []
    url = schema_url(kind)
    note = f"absent; read as {url} from the event's shape"
    return {**payload, "schemaURL": url}, [{"field": "schemaURL", "note": note}]


def naive_time_note(field: str) -> Normalisation:
    return {"field": field, "note": "no time zone; read as UTC"}

"""Validation and normalisation of OpenLineage events (RunEvent, DatasetEvent, JobEvent).

Accepts openlineage-python event objects, dicts or JSON text; returns a :class:`ParsedEvent` with the
event as a plain JSON-able dict plus the fields the store indexes. Every error is an
:class:`InvalidEventError` whose ``field`` is the JSON path of the first wrong field.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from airflow_lineage_provider.core import nesting, normalisation
from airflow_lineage_provider.core.normalisation import EventKind, Normalisation
from airflow_lineage_provider.core.runids import run_event_key
from airflow_lineage_provider.exceptions import InvalidEventError

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RUN_EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
MAX_EVENT_BYTES = 4 * 1024 * 1024


class _Open(BaseModel):
    """An object of the spec: the fields the store reads are typed, any others kept as sent."""

    model_config = ConfigDict(extra="allow")


# The facets the graph is built from must have the spec's shape (a wrong one is refused, naming the
# field); any other facet is stored as sent and read only where it has the shape a reader expects.
class _InputField(_Open):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    field: str


class _FieldLineage(_Open):
    inputFields: list[_InputField] = []  # noqa: N815 - OpenLineage field names


class _ColumnLineage(_Open):
    fields: dict[str, _FieldLineage] = {}


class _DatasetFacets(_Open):
    columnLineage: _ColumnLineage | None = None  # noqa: N815
    version: _Open | None = None
    datasetType: _Open | None = None  # noqa: N815


class _ParentRun(_Open):
    runId: str  # noqa: N815


class _ParentJob(_Open):
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)


class _Parent(_Open):
    run: _ParentRun
    job: _ParentJob


class _RunFacets(_Open):
    parent: _Parent | None = None
    nominalTime: _Open | None = None  # noqa: N815


class _JobFacets(_Open):
    jobType: _Open | None = None  # noqa: N815


class _Dataset(BaseModel):
    model_config = ConfigDict(extra="allow")
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    facets: _DatasetFacets | None = None
    inputFacets: dict[str, Any] | None = None  # noqa: N815 - OpenLineage field names
    outputFacets: dict[str, Any] | None = None  # noqa: N815


class _Job(BaseModel):
    model_config = ConfigDict(extra="allow")
    namespace: str = Field(min_length=1)
    name: str = Field(min_length=1)
    facets: _JobFacets | None = None


class _Run(BaseModel):
    model_config = ConfigDict(extra="allow")
    runId: str  # noqa: N815
    facets: _RunFacets | None = None

    @field_validator("runId")
    @classmethod
    def _uuid(cls, value: str) -> str:
        if _CANONICAL_UUID.fullmatch(value):  # already in canonical form (what producers send)
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a UUID") from exc


class _Base(BaseModel):
    model_config = ConfigDict(extra="allow")
    eventTime: datetime  # noqa: N815 - a time without a zone is read as UTC (normalisation)
    producer: str = Field(min_length=1)
    schemaURL: str = Field(min_length=1)  # noqa: N815


class RunEventModel(_Base):
    eventType: Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"] | None = None  # noqa: N815
    run: _Run
    job: _Job
    inputs: list[_Dataset] | None = None
    outputs: list[_Dataset] | None = None


class JobEventModel(_Base):
    job: _Job
    inputs: list[_Dataset] | None = None
    outputs: list[_Dataset] | None = None


class DatasetEventModel(_Base):
    dataset: _Dataset


@dataclass(frozen=True)
class ParsedEvent:
    """A validated event: ``payload`` is the JSON dict as given; the rest is derived from it.

    ``normalised`` lists what ingest read leniently (:mod:`.normalisation`); ``encoded`` is the
    canonical JSON text of ``payload`` (sorted keys, compact, ASCII) when it was computed while
    validating, so storing and chaining the event need not encode it again (None: not known)."""

    kind: EventKind
    payload: dict[str, Any]
    key: str
    event_time: datetime  # UTC, naive
    event_type: str | None
    run_id: str | None
    job_namespace: str | None
    job_name: str | None
    normalised: tuple[Normalisation, ...] = ()
    encoded: str | None = None


def _to_dict(event: Any) -> dict[str, Any]:
    if isinstance(event, dict):
        return event
    if isinstance(event, (str, bytes)):
        try:
            loaded = json.loads(event)
        except json.JSONDecodeError as exc:
            raise InvalidEventError(f"not valid JSON: {exc.msg} at position {exc.pos}", field="$") from exc
        if not isinstance(loaded, dict):
            raise InvalidEventError("an event must be a JSON object", field="$")
        return loaded
    if hasattr(event, "eventTime"):  # an openlineage-python event object
        from openlineage.client.serde import Serde

        return dict(json.loads(Serde.to_json(event)))
    raise InvalidEventError(f"cannot read an event from a {type(event).__name__}")


def _check_values(value: Any, path: str) -> None:
    """Reject what JSON or the databases cannot keep: NaN/Infinity and NUL characters."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidEventError("NaN and Infinity are not valid JSON numbers", field=path)
    if isinstance(value, str) and "\x00" in value:
        raise InvalidEventError("NUL characters are not allowed in strings", field=path)
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidEventError(
                f"not valid UTF-8 text ({exc.reason} at position {exc.start}: bytes that were not UTF-8?)",
                field=path,
            ) from exc
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                raise InvalidEventError("NUL characters are not allowed in keys", field=path)
            _check_values(key, f"{path}.<key>")
            _check_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(item, f"{path}[{index}]")


def _encode(payload: dict[str, Any]) -> str:
    """The canonical JSON text of an event, after :func:`_check_values` found nothing wrong.

    The walk costs more than the encoding, so it only runs when the text shows it could find
    something: the encoder failed (NaN, Infinity, a value that is not JSON), or the text holds an
    escaped NUL or a UTF-16 surrogate (a lone one is not UTF-8; a pair is an astral character)."""
    try:
        encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        _check_values(payload, "$")
        raise
    if "\\u0000" in encoded or "\\ud" in encoded:
        _check_values(payload, "$")
    return encoded


def _field_path(error: dict[str, Any]) -> str:
    parts: list[str] = []
    for loc in error.get("loc", ()):
        if isinstance(loc, int):
            parts.append(f"[{loc}]")
        else:
            parts.append(("." if parts else "") + str(loc))
    return "".join(parts)


def iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO-8601 text with ``Z``; the inverse of :func:`parse_time`."""
    return None if value is None else value.isoformat() + "Z"


def to_utc_naive(value: datetime) -> datetime:
    """Store times as naive UTC (the same on SQLite and PostgreSQL); naive input is taken as UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def parse_time(value: str) -> datetime | None:
    """An ISO-8601 time as naive UTC, or None when it does not parse."""
    try:
        return to_utc_naive(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (TypeError, ValueError, AttributeError):
        return None


_MODELS: dict[EventKind, type[_Base]] = {
    "run": RunEventModel,
    "dataset": DatasetEventModel,
    "job": JobEventModel,
}


def _validated(payload: dict[str, Any], index: int | None) -> tuple[_Base, EventKind, list[Normalisation]]:
    """The event validated as the type its ``schemaURL`` names (else its shape says), leniently."""
    kind = normalisation.named_kind(payload) or normalisation.shape_kind(payload)
    if kind is None:
        raise InvalidEventError(
            "not a RunEvent, DatasetEvent or JobEvent (no run, job or dataset)", field="job", index=index
        )
    checked, notes = normalisation.filled_schema_url(payload, kind)
    try:
        parsed = _MODELS[kind].model_validate(checked)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidEventError(message, field=_field_path(dict(first)), index=index) from exc
    if parsed.eventTime.tzinfo is None:
        notes.append(normalisation.naive_time_note("eventTime"))
    return parsed, kind, notes


def parse_event(event: Any, index: int | None = None) -> ParsedEvent:
    """Validate one event; raise :class:`InvalidEventError` naming the wrong field."""
    try:
        payload = _to_dict(event)
        encoded = _encode(payload)
    except InvalidEventError as exc:
        raise InvalidEventError(exc.reason, field=exc.field or "$", index=index) from exc
    except (TypeError, ValueError) as exc:
        raise InvalidEventError(f"not JSON-serialisable: {exc}", field="$", index=index) from exc
    if len(encoded) > MAX_EVENT_BYTES:
        raise InvalidEventError(
            f"event is {len(encoded)} bytes, over the {MAX_EVENT_BYTES} limit", field="$", index=index
        )
    nesting.check(encoded, payload, index)
    parsed, kind, notes = _validated(payload, index)
    event_time = to_utc_naive(parsed.eventTime)
    run_id = event_type = job_ns = job_name = None
    text: str | None = encoded
    if isinstance(parsed, RunEventModel):
        run_id, event_type = parsed.run.runId, parsed.eventType or "OTHER"
        if payload["run"]["runId"] != run_id:  # stored in its canonical form, as before
            payload, text = {**payload, "run": {**payload["run"], "runId": run_id}}, None
            notes.append({"field": "run.runId", "note": f"written in canonical form {run_id}"})
        key = run_event_key(run_id, event_type, event_time.isoformat())
    else:
        key = hashlib.sha256(f"{kind}\x1f{encoded}".encode()).hexdigest()
    if isinstance(parsed, (RunEventModel, JobEventModel)):
        job_ns, job_name = parsed.job.namespace, parsed.job.name
    return ParsedEvent(
        kind=kind,
        payload=payload,
        key=key,
        event_time=event_time,
        event_type=event_type,
        run_id=run_id,
        job_namespace=job_ns,
        job_name=job_name,
        normalised=tuple(notes),
        encoded=text,
    )

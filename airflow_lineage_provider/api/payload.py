"""Reading an ingest body: at most :data:`MAX_BODY_BYTES`, optionally gzip-encoded, strict JSON.

OpenLineage's HTTP transport posts one event as ``application/json``, gzip-compressed when configured
(``Content-Encoding: gzip``). The limit applies to the body as sent and again after decompression;
over it the answer is 413 before anything is parsed or stored. JSON that does not parse, or uses
``NaN``/``Infinity``, is 400. A NUL character in any string is 422 (PostgreSQL cannot store it).
"""

from __future__ import annotations

import json
import zlib
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from airflow_lineage_provider.exceptions import InvalidEventError

MAX_BODY_BYTES = 5 * 1024 * 1024


def _too_large(what: str) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"{what} is over the limit of {MAX_BODY_BYTES} bytes"
    )


def _gunzip(raw: bytes) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body is not valid gzip: {exc}") from exc
    if len(data) > MAX_BODY_BYTES or inflater.unconsumed_tail:
        raise _too_large("the decompressed body")
    return data


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large("the body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large("the body")
        chunks.append(chunk)
    raw = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        return _gunzip(raw)
    if encoding not in ("", "identity"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"Content-Encoding {encoding!r} is not supported"
        )
    return raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def _json(request: Request) -> Any:
    raw = await _body(request)
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body is not valid JSON: {exc}") from exc


def _nul_path(value: Any, path: str) -> str | None:
    """JSON path of the first string or key holding a NUL character, if any."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        here = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and "\x00" in key:
            return here
        found = _nul_path(item, here)
        if found is not None:
            return found
    return None


def _reject_nul(event: Any, index: int | None = None) -> None:
    field = _nul_path(event, "")
    if field is not None:
        raise InvalidEventError("NUL characters are not allowed", field=field or "$", index=index)


async def _one_event(request: Request) -> dict[str, Any]:
    body = await _json(request)
    if not isinstance(body, dict):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "body must be one JSON object (a RunEvent, DatasetEvent or JobEvent); "
            "post JSON arrays to /api/v1/lineage/batch",
        )
    _reject_nul(body)
    return body


async def _event_batch(request: Request) -> list[Any]:
    body = await _json(request)
    if not isinstance(body, list):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "body must be a JSON array of OpenLineage events")
    for index, event in enumerate(body):
        _reject_nul(event, index)
    return body


OneEvent = Annotated[dict[str, Any], Depends(_one_event)]
EventBatch = Annotated[list[Any], Depends(_event_batch)]

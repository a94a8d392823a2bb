"""OpenLineage events as JSON lines (one event a line): read a file, write one atomically."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from airflow_lineage_provider.exceptions import InvalidEventError


def read_events(
    stream: IO[bytes], source: str, advance: Callable[[int], None] | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """Every event of a JSONL byte stream with its line number; blank lines are skipped.

    ``advance`` is called with the size in bytes of each line read (for a progress bar).

    The first line that is not UTF-8 text or not a JSON object raises :class:`InvalidEventError`
    naming the line (each line is decoded on its own, so the number is the line's, not a buffer's).
    """
    events: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(stream, start=1):
        if advance is not None:
            advance(len(raw))
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEventError(
                f"{source} line {number}: not UTF-8 text ({exc.reason} at byte {exc.start + 1})"
            ) from exc
        if not line.strip():
            continue
        try:
            event = json.loads(line.rstrip("\r\n"))  # so the column counts in the line
        except json.JSONDecodeError as exc:
            raise InvalidEventError(
                f"{source} line {number}: not valid JSON: {exc.msg} (column {exc.colno})"
            ) from exc
        if not isinstance(event, dict):
            raise InvalidEventError(
                f"{source} line {number}: expected one OpenLineage event (a JSON object), "
                f"got {type(event).__name__}"
            )
        events.append((number, event))
    return events


def write_events(events: Iterable[dict[str, Any]], stream: IO[str]) -> int:
    """Write events one a line (compact JSON); return how many."""
    count = 0
    for event in events:
        stream.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str) + "\n")
        count += 1
    return count


@contextmanager
def atomic_text_file(path: str) -> Iterator[IO[str]]:
    """A temporary file next to ``path`` that replaces it only when the block ends without error."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            yield stream
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

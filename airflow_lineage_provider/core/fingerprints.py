"""Content fingerprints of datasets: what capture records and what ``verify --artifacts`` checks again.

A fingerprint is a plain dict, the fields of the ``airflowLineage_fingerprint`` dataset facet:

* a **file** (namespace ``file``, name its absolute path): ``algorithm`` (``xxh3_128`` when the
  ``xxhash`` package is installed, else ``sha256``), ``digest``, ``size`` and ``mtime``. A file
  larger than the size limit is read in :data:`SAMPLE_BLOCKS` blocks spread over it (the first and the
  last included), hashed with its size and modification time, and marked ``sampled``: equal
  fingerprints then mean "very probably the same bytes", and a rewrite with the same bytes counts as
  a change;
* an **object** in an object store (``s3://bucket`` and the like, through fsspec): what the store's
  ``info()`` names the object version by (ETag, generation or version id), without reading it;
* a **table** (SQLite, PostgreSQL): its row count, marked ``approximate``.

Every reader takes a ``deadline`` (``time.monotonic()``) and raises ``TimeoutError`` past it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

FACET = "airflowLineage_fingerprint"
SAMPLE_BLOCKS = 16
BLOCK = 1 << 16  # bytes read per block (whole files are read in blocks of 1 MiB)
_READ = 1 << 20

# What object stores name a version of an object by, in fsspec's info() (s3fs, gcsfs, adlfs, ...)
_OBJECT_KEYS = (
    ("VersionId", "versionId"),
    ("version_id", "versionId"),
    ("generation", "generation"),
    ("ETag", "etag"),
    ("etag", "etag"),
    ("e_tag", "etag"),
    ("md5Hash", "md5"),
    ("content_md5", "md5"),
)
_MTIME_KEYS = ("LastModified", "last_modified", "updated", "mtime", "modified", "created")


class NotCheckableError(Exception):
    """A dataset that has no fingerprint here (the reason is the message)."""


class MissingError(NotCheckableError):
    """A dataset that is gone: no file, object, database or table by its name."""


def _hasher() -> tuple[str, Any]:
    try:
        import xxhash
    except ImportError:  # the fallback named in the facet
        return "sha256", hashlib.sha256()
    return "xxh3_128", xxhash.xxh3_128()


def algorithm() -> str:
    """The content hash in use: ``xxh3_128``, or ``sha256`` without the ``xxhash`` package."""
    return _hasher()[0]


def _check(deadline: float | None, what: str) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise TimeoutError(f"the fingerprint time limit ran out while reading {what}")


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def file_fingerprint(path: str, max_bytes: int, deadline: float | None = None) -> dict[str, Any]:
    """The fingerprint of a local file: its whole content up to ``max_bytes``, sampled above."""
    try:
        found = os.stat(path)
    except FileNotFoundError as exc:
        raise MissingError(f"no file at {path}") from exc
    if not os.path.isfile(path):
        raise NotCheckableError(f"{path} is not a regular file")
    name, digest = _hasher()
    size = found.st_size
    sampled = size > max_bytes
    with open(path, "rb") as stream:
        if sampled:
            digest.update(f"{size}:{found.st_mtime_ns}:".encode())
            span = max(size - BLOCK, 0)
            for index in range(SAMPLE_BLOCKS):
                _check(deadline, path)
                stream.seek(span * index // (SAMPLE_BLOCKS - 1))
                digest.update(stream.read(BLOCK))
        else:
            for block in iter(lambda: stream.read(_READ), b""):
                _check(deadline, path)
                digest.update(block)
    mtime = _iso(found.st_mtime)
    fingerprint = {"algorithm": name, "digest": digest.hexdigest(), "size": size, "mtime": mtime}
    if sampled:
        fingerprint["sampled"] = True
    return fingerprint


def object_fingerprint(info: dict[str, Any]) -> dict[str, Any]:
    """The fingerprint of an object from its fsspec ``info()``: the version marker its store gives."""
    for key, name in _OBJECT_KEYS:
        value = info.get(key)
        if value not in (None, ""):
            fingerprint: dict[str, Any] = {"algorithm": name, "digest": str(value).strip('"')}
            break
    else:
        raise NotCheckableError("the object store gives no ETag, generation or version id for it")
    if isinstance(info.get("size"), int):
        fingerprint["size"] = info["size"]
    for key in _MTIME_KEYS:
        when = info.get(key)
        if isinstance(when, datetime):
            fingerprint["mtime"] = when.isoformat()
            break
        if isinstance(when, (int, float)) and not isinstance(when, bool):
            fingerprint["mtime"] = _iso(float(when))
            break
        if isinstance(when, str) and when:
            fingerprint["mtime"] = when
            break
    return fingerprint


def stored_object(namespace: str, name: str) -> dict[str, Any]:
    """The fingerprint of an object named as OpenLineage names it (``s3://bucket`` + key), from the
    filesystem fsspec has for its scheme (credentials as fsspec finds them)."""
    protocol = namespace.split("://", 1)[0]
    try:
        import fsspec
    except ImportError as exc:
        raise NotCheckableError("fsspec is not installed") from exc
    try:
        filesystem = fsspec.filesystem(protocol)
    except (ImportError, ValueError) as exc:
        raise NotCheckableError(f"no fsspec filesystem for {protocol}://: {exc}") from exc
    authority = namespace.split("://", 1)[1]
    path = f"{authority}/{name}" if authority else name
    try:
        info = filesystem.info(path)
    except FileNotFoundError as exc:
        raise MissingError(f"no object at {namespace}/{name}") from exc
    return object_fingerprint(dict(info))


def table_fingerprint(rows: int) -> dict[str, Any]:
    """The approximate fingerprint of a table: its row count."""
    return {"algorithm": "rowcount", "digest": str(rows), "rows": rows, "approximate": True}


def sqlite_table(database: str, table: str, deadline: float | None = None) -> dict[str, Any]:
    """The row count of a SQLite table, read-only; interrupted past ``deadline``."""
    import sqlite3

    if not os.path.isfile(database):
        raise MissingError(f"no SQLite database at {database}")
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.5)
    try:
        if deadline is not None:
            conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        quoted = '"' + table.replace('"', '""') + '"'
        try:
            (rows,) = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise TimeoutError(f"counting the rows of {table} took longer than the time limit") from exc
            if "no such table" in str(exc):
                raise MissingError(f"no table {table} in {database}") from exc
            raise
    finally:
        conn.close()
    return table_fingerprint(int(rows))


def same(recorded: dict[str, Any] | None, found: dict[str, Any] | None) -> bool | None:
    """Whether two fingerprints name the same content (None: they cannot be compared)."""
    if not isinstance(recorded, dict) or not isinstance(found, dict):
        return None
    if recorded.get("algorithm") != found.get("algorithm") or not recorded.get("digest"):
        return None
    if bool(recorded.get("sampled")) != bool(found.get("sampled")):
        return None
    sizes = (recorded.get("size"), found.get("size"))
    if None not in sizes and sizes[0] != sizes[1]:
        return False
    return bool(recorded.get("digest") == found.get("digest"))


Counter = Callable[[str, str], int]  # (namespace, name) of a table -> its row count


def measure(
    namespace: str,
    name: str,
    max_bytes: int,
    deadline: float | None = None,
    count_rows: Counter | None = None,
) -> dict[str, Any]:
    """The fingerprint of a dataset as it is now, by its OpenLineage name (``MissingError``: it is gone;
    ``NotCheckableError``: it has none that can be taken here). ``count_rows`` counts the rows of a
    PostgreSQL table (through a connection the caller has: it raises ``MissingError`` for a table
    that is not there)."""
    if namespace == "file":
        return file_fingerprint(name, max_bytes, deadline)
    if namespace.startswith("sqlite://"):
        return sqlite_table(namespace[len("sqlite://") :], name, deadline)
    if namespace.startswith(("postgres://", "postgresql://")):
        if count_rows is None:
            raise NotCheckableError("a PostgreSQL table needs a connection to count it (--conn-id)")
        return table_fingerprint(count_rows(namespace, name))
    if namespace.startswith("file://"):
        raise NotCheckableError(f"a file on another host ({namespace})")
    if "://" in namespace:
        return stored_object(namespace, name)
    raise NotCheckableError(f"no way to fingerprint a dataset of namespace {namespace!r}")

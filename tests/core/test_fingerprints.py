"""Fingerprints of files, objects and SQLite tables as capture takes them and ``verify --artifacts``
takes them again: real files, a real SQLite database, and fsspec's in-memory filesystem (with, as a
fake of an object store at fsspec's seam, the ETag S3 gives an object written in one part)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from airflow_lineage_provider.capture import fingerprints as capture
from airflow_lineage_provider.capture.lineage import DatasetEntry, Lineage
from airflow_lineage_provider.core import fingerprints
from airflow_lineage_provider.store import artifacts


class ETagMemoryFileSystem(MemoryFileSystem):
    """fsspec's memory filesystem, whose info() names each object's content as S3 does: a quoted md5."""

    protocol = "etagmem"

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        found: dict[str, Any] = super().info(path, **kwargs)
        if found["type"] == "file":
            found["ETag"] = '"' + hashlib.md5(self.cat_file(path)).hexdigest() + '"'
        return found


@pytest.fixture
def bucket() -> Iterator[MemoryFileSystem]:
    fsspec.register_implementation("etagmem", ETagMemoryFileSystem, clobber=True)
    filesystem = fsspec.filesystem("etagmem")
    yield filesystem
    if filesystem.exists("/bucket"):
        filesystem.rm("/bucket", recursive=True)


def test_an_object_is_fingerprinted_by_its_stores_version_marker_without_reading_it(
    bucket: MemoryFileSystem,
) -> None:
    bucket.pipe("/bucket/data/x.csv", b"a,b\n1,2\n")

    found = fingerprints.measure("etagmem://bucket", "data/x.csv", 0)

    assert found["algorithm"] == "etag" and found["size"] == 8
    assert found["digest"] == hashlib.md5(b"a,b\n1,2\n").hexdigest()  # the quotes taken off
    assert found["mtime"].startswith("20")
    assert artifacts.check("etagmem://bucket", "data/x.csv", found)[0] == "matches"
    bucket.pipe("/bucket/data/x.csv", b"a,b\n1,3\n")
    assert artifacts.check("etagmem://bucket", "data/x.csv", found)[0] == "changed"
    bucket.rm("/bucket/data/x.csv")
    assert artifacts.check("etagmem://bucket", "data/x.csv", found) == (
        "missing",
        "no object at etagmem://bucket/data/x.csv",
    )


def test_an_object_store_that_names_no_version_is_not_checkable() -> None:
    memory = fsspec.filesystem("memory")
    memory.pipe("/plain/k", b"x")
    try:
        with pytest.raises(fingerprints.NotCheckableError, match="no ETag, generation or version id"):
            fingerprints.measure("memory://plain", "k", 0)
    finally:
        memory.rm("/plain", recursive=True)


def test_capture_asks_only_the_object_stores_the_task_itself_loaded(bucket: MemoryFileSystem) -> None:
    bucket.pipe("/bucket/out.bin", b"payload")
    lineage = Lineage()
    lineage.add_outputs([DatasetEntry("etagmem://bucket", "out.bin"), DatasetEntry("nostore://b", "k")])

    capture.add_fingerprints(lineage, "COMPLETE")

    assert lineage.outputs[("etagmem://bucket", "out.bin")].facets[fingerprints.FACET]["algorithm"] == "etag"
    assert lineage.outputs[("nostore://b", "k")].facets == {}  # no such filesystem loaded: not asked
    assert lineage.errors == []


def test_a_sampled_file_is_sampled_again_the_same_way_whatever_the_limit_now(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    recorded = fingerprints.file_fingerprint(str(path), 1000)

    assert recorded["sampled"] is True
    assert artifacts.check("file", str(path), recorded)[0] == "matches"
    whole = fingerprints.file_fingerprint(str(path), 1 << 30)
    assert "sampled" not in whole and fingerprints.same(recorded, whole) is None  # not comparable


def test_a_sqlite_table_is_counted_and_a_dropped_one_is_missing(tmp_path: Path) -> None:
    database = tmp_path / "t.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE scores (id INTEGER)")
        conn.executemany("INSERT INTO scores VALUES (?)", [(1,), (2,)])
    conn.close()
    namespace = f"sqlite://{database}"

    recorded = fingerprints.measure(namespace, "scores", 0)
    assert (recorded["rows"], recorded["approximate"]) == (2, True)
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO scores VALUES (3)")
    conn.close()
    assert artifacts.check(namespace, "scores", recorded) == ("changed", "recorded 2, now 3")
    assert artifacts.check(namespace, "gone", recorded) == ("missing", f"no table gone in {database}")
    assert artifacts.check("postgres://db:5432", "d.public.t", recorded)[0] == "not checkable"


def test_a_spent_deadline_is_a_timeout_not_a_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10)

    with pytest.raises(TimeoutError, match="time limit"):
        fingerprints.file_fingerprint(str(path), 1 << 20, deadline=0.0)

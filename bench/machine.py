"""The machine line every benchmark prints first, and small helpers they share."""

from __future__ import annotations

import os
import platform
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy

POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)


def describe() -> str:
    """``cpu: AMD EPYC, 2 cores, 23.5 GiB, load 0.12 0.30 0.25, Python 3.11.7, SQLite 3.40.1``."""
    import sqlite3

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            cpu = next(line.split(":", 1)[1].strip() for line in stream if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, {memory:.1f} GiB, load {load}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"SQLAlchemy {sqlalchemy.__version__}"
    )


def percentile(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def kept_store_url(store: str) -> str:
    """The URL of a store kept by ``bench.ingest --keep``: a database URL as given, a SQLite file by
    its absolute path (a server started in another directory finds it too)."""
    return store if "://" in store else f"sqlite:///{os.path.abspath(store)}"


def analyze(url: str) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load and print how long it took.

    Without them PostgreSQL plans the walk's ``IN`` lookups as sequential scans (a depth-3 query
    on the large store took seconds). Autovacuum would gather them on its own a little later, but
    it is off on some servers (on this benchmark machine's, for one). SQLite needs nothing: its planner
    uses the indexes without statistics.
    """
    if not url.startswith("postgresql"):
        return
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    began = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text("ANALYZE"))
    engine.dispose()
    print(f"ANALYZE after the load: {time.perf_counter() - began:.1f} s", flush=True)


@contextmanager
def postgres_database(name: str | None = None, drop: bool = True) -> Iterator[str]:
    """A fresh PostgreSQL database (uniquely named unless ``name`` is given), dropped afterwards
    unless ``drop`` is false; yields its URL. An existing database of that name is an error."""
    name = name or f"lineage_bench_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sqlalchemy.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.first():
            raise SystemExit(f"PostgreSQL database {name} exists: drop it first")
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + "/" + name
    finally:
        if drop:
            with admin.connect() as conn:
                conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

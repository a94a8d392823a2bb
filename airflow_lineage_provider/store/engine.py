"""Engines for the lineage store: SQLite in WAL mode with a busy timeout, or PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from airflow_lineage_provider.exceptions import ConfigError

DEFAULT_TIMEOUT = 30.0


def sqlite_path(url: str) -> str | None:
    """The database file of a SQLite URL, or None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    return None if database in ("", ":memory:") else os.path.abspath(database)


def _sqlite_pragmas(timeout: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            try:
                cursor.execute("PRAGMA journal_mode = WAL")
            except Exception:  # noqa: BLE001 - a read-only file keeps its journal mode; reads still work
                pass
            # FULL: a commit is on disk (the WAL fsynced) before it returns. Capture removes an
            # event's outbox file right after the commit; with NORMAL a power loss could take the
            # commit while the removal had reached the disk, losing the event (reliability.md, 2).
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    return on_connect


def make_engine(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Engine:
    """Create an engine; no connection is opened here."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"store URL {url!r} is not a SQLAlchemy URL: {exc}") from exc
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        path = sqlite_path(url)
        kwargs["connect_args"] = {"timeout": timeout, "check_same_thread": False}
        if path is None:
            kwargs["poolclass"] = StaticPool
    elif backend == "postgresql":
        kwargs["pool_pre_ping"] = True
        if parsed.get_driver_name() in ("psycopg2", "psycopg"):
            kwargs["connect_args"] = {"connect_timeout": max(1, int(timeout))}
    else:
        raise ConfigError(
            f"store URL {url!r}: only sqlite and postgresql stores are supported, not {backend}"
        )
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"cannot use store URL {parsed.render_as_string()}: {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(timeout))
    return engine

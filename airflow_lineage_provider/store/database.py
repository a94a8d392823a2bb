"""The connection scope of the lineage store: one engine, migrated on first use, and the transaction
every store module works in (:meth:`Database.connect`), with database errors translated once, here.

``LineageStore`` (the public API), ``MLLineage`` and ``Catalog`` all read and write through it;
:func:`as_of_time` turns an ``as_of`` argument (a time or a run id) into the time they filter by.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from airflow_lineage_provider.core.events import parse_time
from airflow_lineage_provider.exceptions import InvalidQueryError, LineageError, StoreError
from airflow_lineage_provider.store import schema, visibility
from airflow_lineage_provider.store.engine import sqlite_path
from airflow_lineage_provider.store.tables import Run
from airflow_lineage_provider.store.visibility import Scope


class Database:
    """One store's engine; migrations are applied before the first transaction (once per process)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ready = False
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def connect(self, write: bool) -> Iterator[Connection]:
        """A transaction (``write``) or a read connection; SQLAlchemy errors become ``StoreError``."""
        try:
            if write and not self._ready:  # once: a directory that held the migrated store exists
                self._make_dirs()
            elif not write:
                self._check_exists()
            if not self._ready:
                with self._lock:
                    if not self._ready:
                        schema.ensure_schema(self.engine)
                        self._ready = True
            with self.engine.begin() if write else self.engine.connect() as conn:
                yield conn
        except LineageError:
            raise
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            raise StoreError(f"lineage store {self.url}: {type(cause).__name__}: {cause}") from exc

    def _check_exists(self) -> None:
        """Reading a SQLite store that is not there is an error, not a reason to create one."""
        path = sqlite_path(str(self.engine.url))
        if path is not None and not os.path.exists(path):
            raise StoreError(
                f"no lineage store at {path}: check [lineage_provider] store_url, or create it with "
                "`airflow-lineage db upgrade`"
            )

    def _make_dirs(self) -> None:
        path = sqlite_path(str(self.engine.url))
        if path is not None:
            os.makedirs(os.path.dirname(path), exist_ok=True)

    def upgrade(self) -> str:
        """Apply pending migrations; return the schema revision the store is now at."""
        try:
            self._make_dirs()
            revision = schema.upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"lineage store {self.url}: cannot migrate: {exc}") from exc
        self._ready = True
        return revision

    def revision(self) -> str | None:
        """The schema revision the store is at (None for an empty database)."""
        try:
            with self.engine.connect() as conn:
                return schema.current_revision(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"lineage store {self.url}: {exc}") from exc


def as_of_time(conn: Connection, value: datetime | str | None, scope: Scope | None = None) -> datetime | None:
    """The time ``value`` names: a datetime, an ISO-8601 time, or a stored run (``run:<uuid>`` or its
    id), whose end (else last state change, else start) is taken. A run the reader (``scope``, resolved)
    may not read is answered like one never stored."""
    if value is None or isinstance(value, datetime):
        return None if value is None else parse_time(value.isoformat())
    text = value.removeprefix("run:")
    when = parse_time(text)
    if when is not None:
        return when
    query = select(Run.ended_at, Run.state_time, Run.started_at).where(Run.run_id == text)
    if scope is not None:
        query = query.where(visibility.run_condition(Run.run_id, scope))
    row = conn.execute(query).first()
    if row is None:
        raise InvalidQueryError(f"as_of {value!r} is neither an ISO-8601 time nor a stored run id")
    found = row.ended_at or row.state_time or row.started_at
    if found is None:
        raise InvalidQueryError(f"as_of run {text} has no recorded time yet")
    return found  # type: ignore[no-any-return]

"""Dialect-aware INSERT ... ON CONFLICT statements (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert(conn: Connection, table: Any) -> Any:
    """An ``INSERT`` that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    target: Table = table.__table__ if hasattr(table, "__table__") else table
    if conn.dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


_BUILT: dict[tuple[str, str], Any] = {}


def statement(conn: Connection, name: str, build: Callable[[Connection], Any]) -> Any:
    """The statement ``build`` makes, built once per dialect and reused: building an upsert (its
    ``excluded`` alias, its cache key) costs more than running it for a single row."""
    key = (conn.dialect.name, name)
    found = _BUILT.get(key)
    if found is None:
        found = _BUILT[key] = build(conn)
    return found

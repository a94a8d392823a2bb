"""Dialect-aware INSERT ... ON CONFLICT statements (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert(conn: Connection, table: Any) -> Any:
    """An ``INSERT`` that supports ``on_conflict_do_nothing`` / ``on_conflict_do_update``."""
    target: Table = table.__table__ if hasattr(table, "__table__") else table
    if conn.dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)

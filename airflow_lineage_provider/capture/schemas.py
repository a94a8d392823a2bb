"""Schema facets of SQLite tables, read from the database file itself (read-only, no hook involved).

Reading through a hook would report the PRAGMA as more hook lineage, so the file is opened directly
with the standard library in read-only mode; a table that is not there simply gets no facet.
"""

from __future__ import annotations

from collections.abc import Iterable

from airflow_lineage_provider.capture import facets
from airflow_lineage_provider.capture.lineage import DatasetEntry

_SQLITE = "sqlite://"


def table_fields(database: str, table: str) -> list[tuple[str, str | None]]:
    """Columns of ``table`` in the SQLite file ``database`` (empty when either is missing)."""
    import sqlite3  # only tasks that touched a SQLite table need it

    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return []
    try:
        quoted = '"' + table.replace('"', '""') + '"'
        rows = conn.execute(f"PRAGMA table_info({quoted})").fetchall()
    except sqlite3.Error:
        return []
    finally:
        conn.close()
    return [(row[1], row[2] or None) for row in rows]


def add_sqlite_schemas(datasets: Iterable[DatasetEntry]) -> None:
    """Give every SQLite dataset without a schema facet the columns its table has now."""
    for dataset in datasets:
        if not dataset.namespace.startswith(_SQLITE) or "schema" in dataset.facets:
            continue
        fields = table_fields(dataset.namespace[len(_SQLITE) :], dataset.name)
        if fields:
            dataset.facets["schema"] = facets.schema(fields)

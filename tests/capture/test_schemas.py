from __future__ import annotations

import sqlite3
from pathlib import Path

from airflow_lineage_provider.capture.lineage import DatasetEntry
from airflow_lineage_provider.capture.schemas import add_sqlite_schemas, table_fields
from airflow_lineage_provider.core.naming import sqlite_namespace


def test_missing_files_and_tables_give_no_fields_and_create_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "absent.db"
    assert table_fields(str(missing), "t") == []
    assert not missing.exists()
    sqlite3.connect(tmp_path / "w.db").close()
    assert table_fields(str(tmp_path / "w.db"), "no_such_table") == []


def test_only_sqlite_datasets_without_a_schema_get_one(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with sqlite3.connect(db) as conn:
        conn.execute('CREATE TABLE "odd ""name""" (a INTEGER, b)')
    odd = DatasetEntry(sqlite_namespace(str(db)), 'odd "name"')
    given = DatasetEntry(sqlite_namespace(str(db)), 'odd "name"', facets={"schema": "kept"})
    elsewhere = DatasetEntry("file", str(db))
    add_sqlite_schemas([odd, given, elsewhere])
    assert [(f["name"], f.get("type")) for f in odd.facets["schema"]["fields"]] == [
        ("a", "INTEGER"),
        ("b", None),
    ]
    assert given.facets["schema"] == "kept"
    assert elsewhere.facets == {}

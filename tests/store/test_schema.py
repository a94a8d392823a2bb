from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.exceptions import SchemaVersionError, StoreError
from airflow_lineage_provider.store import schema
from airflow_lineage_provider.store.tables import Base
from tests.store.events import etl_events


def test_head_revision_constant_matches_the_migration_scripts():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(schema.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == schema.HEAD_REVISION


def test_migrations_create_exactly_the_tables_the_models_describe(store_url):
    store = LineageStore.from_url(store_url)
    assert store.upgrade() == schema.HEAD_REVISION
    engine = create_engine(store_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": schema.VERSION_TABLE})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    store.close()
    assert diff == []


def test_first_use_applies_migrations_and_uses_its_own_version_table(store_url):
    store = LineageStore.from_url(store_url)
    assert store.revision() is None
    store.record_many(etl_events())
    assert store.revision() == schema.HEAD_REVISION
    engine = create_engine(store_url)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {schema.VERSION_TABLE}")).scalar() == 1
    engine.dispose()
    store.close()


def test_a_store_from_a_newer_release_is_refused_clearly(tmp_path):
    url = f"sqlite:///{tmp_path / 'future.db'}"
    LineageStore.from_url(url).upgrade()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {schema.VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="9999"):
        LineageStore.from_url(url).lineage("dataset:x:y")


def test_an_unreachable_store_raises_store_error_naming_it():
    store = LineageStore.from_url("postgresql+psycopg2://nobody@127.0.0.1:1/lineage", timeout=2)
    with pytest.raises(StoreError, match="127.0.0.1:1"):
        store.record_many(etl_events())


def test_reading_a_sqlite_store_that_does_not_exist_creates_nothing(tmp_path):
    path = tmp_path / "typo" / "lineage.db"
    store = LineageStore.from_url(f"sqlite:///{path}")
    with pytest.raises(StoreError, match="no lineage store at"):
        store.lineage("dataset:x:y")
    assert not path.parent.exists()


def test_sqlite_stores_commit_durably_in_wal_mode(tmp_path):
    """Capture removes an outbox file right after the store's commit, so the commit must be on disk
    when it returns (synchronous FULL), not only in the OS's cache (NORMAL)."""
    from airflow_lineage_provider.store.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'lineage.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()

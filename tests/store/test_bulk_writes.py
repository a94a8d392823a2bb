"""Large batches reach PostgreSQL by COPY (raw events straight into their table, the upserted tables
through a staging table and ``INSERT ... SELECT ... ON CONFLICT``), small ones as multi-row VALUES:
both paths must store the same rows, table by table."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, select

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.store import tables as t
from airflow_lineage_provider.store import upserts
from tests.conftest import fresh_postgres_database
from tests.store.events import ds, new_run, run_event

_TABLES = (t.Event, t.Node, t.Edge, t.Run, t.RunIO, t.DatasetVersion, t.ColumnLineage, t.Tag)
_SKIPPED = {"received_at", "created_at", "updated_at"}  # the times of the call


def _graph(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    found = {}
    with engine.connect() as conn:
        for table in _TABLES:
            columns = [c for c in table.__table__.columns if c.name not in _SKIPPED]
            keys = list(table.__table__.primary_key.columns)
            found[table.__tablename__] = [tuple(r) for r in conn.execute(select(*columns).order_by(*keys))]
    engine.dispose()
    return found


def _batch(runs: int, minute: float, tag: str) -> list[dict[str, Any]]:
    """``runs`` runs of one job family, each reading two shared datasets and writing its own (with
    schema, tags, column lineage and values COPY must escape): more than 50 rows for every table."""
    events = []
    for i in range(runs):
        run_id = new_run()
        job = f"dag.task_{i}\t{tag}"
        inputs = [ds("shared\\raw"), ds(f"in_{i % 7}", tags={"tags": [{"key": "pii", "value": tag}]})]
        column_lineage = {
            "fields": {
                "id": {
                    "inputFields": [
                        {"namespace": "sqlite:///data/w.db", "name": "shared\\raw", "field": "id"}
                    ]
                }
            }
        }
        output = ds(
            f"out_{i}\n", schema={"fields": [{"name": "id", "type": "int"}]}, columnLineage=column_lineage
        )
        events.append(run_event("START", job, run_id, minute=minute + i, inputs=inputs))
        events.append(
            run_event(
                "COMPLETE",
                job,
                run_id,
                minute=minute + i + 0.5,
                inputs=inputs,
                outputs=[output],
                job_facets={
                    "jobType": {"jobType": "TASK", "processingType": "BATCH", "integration": "AIRFLOW"}
                },
            )
        )
    return events


def _store_all(url: str, batches: list[list[dict[str, Any]]]) -> None:
    store = LineageStore.from_url(url)
    for events in batches:
        store.record_many(events)
    assert store.verify().ok
    store.close()


@pytest.mark.postgres
def test_copy_stores_on_postgresql_what_multi_row_values_store(monkeypatch):
    """The same batches into two PostgreSQL stores, by COPY (the default for 50 rows or more) and by
    multi-row VALUES alone: every row of every table is the same, ids and chain hashes included."""
    first, second = _batch(60, 0, "a"), _batch(60, 1000, "b")
    batches = [first, second, first[:10], _batch(1, 5000, "c")]  # the second batch updates the first's rows
    with fresh_postgres_database() as by_copy, fresh_postgres_database() as by_values:
        _store_all(by_copy, batches)
        monkeypatch.setattr(upserts, "COPY_FROM", 10**9)
        _store_all(by_values, batches)

        stored, expected = _graph(by_copy), _graph(by_values)

    assert len(expected["lineage_runs"]) == 121 and len(expected["lineage_edges"]) > 200
    assert len(expected["lineage_events"]) == 242 and len(expected["lineage_tags"]) >= 7
    assert stored == expected


@pytest.mark.postgres
def test_a_role_that_may_not_create_temporary_tables_stores_the_same_by_values():
    """A hardened server revokes TEMPORARY from PUBLIC: large batches then go as VALUES pages (the
    staging table's refusal leaves the transaction usable) and store what a permitted role stores."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    batches = [_batch(60, 0, "a"), _batch(60, 1000, "b")]
    role = f"lineage_notemp_{new_run()[:8]}"
    with fresh_postgres_database() as hardened, fresh_postgres_database() as permitted:
        admin = create_engine(hardened, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            database = make_url(hardened).database
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            conn.execute(text(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC'))
            conn.execute(text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"'))
        admin.dispose()
        try:
            as_role = make_url(hardened).set(username=role).render_as_string(hide_password=False)
            _store_all(as_role, batches)
            _store_all(permitted, batches)
            assert str(make_url(as_role)) in upserts._NO_TEMPORARY  # refused, and remembered
            stored, expected = _graph(hardened), _graph(permitted)
        finally:
            admin = create_engine(hardened, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER'))
                conn.execute(text(f'DROP OWNED BY "{role}"'))
                conn.execute(text(f'DROP ROLE "{role}"'))
            admin.dispose()

    assert len(expected["lineage_runs"]) == 120
    assert stored == expected

"""The visibility rule in SQL answers exactly as the same rule in Python, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from airflow_lineage_provider.store.catalog import Catalog
from airflow_lineage_provider.store.visibility import Scope, job_visible
from tests.store.events import ds, new_run, run_event

DAG = {"jobType": {"_producer": "p", "_schemaURL": "s", "jobType": "DAG"}}
JOBS = [
    ("airflow", "etl", DAG),
    ("airflow", "etl.clean", {}),
    ("airflow", "etl.clean.query.1", {}),
    ("airflow", "etl_x.load", {}),  # '_' is no LIKE wildcard here
    ("airflow", "etlx", {}),
    ("airflow", "etl.private", DAG),  # a DAG of its own that extends the id etl
    ("airflow", "etl.private.load", {}),
    ("airflow", "etl.private.public", DAG),
    ("airflow", "etl.private.public.load", {}),
    ("airflow", "100%.load", {}),
    ("spark", "etl.clean", {}),
]
SCOPES = [
    Scope("airflow", frozenset({"etl"})),
    Scope("airflow", frozenset({"etl", "etl.private.public"})),
    Scope("airflow", frozenset({"etl.private"})),
    Scope("airflow", frozenset({"100%"})),
    Scope("airflow", frozenset()),
    Scope("airflow"),
]


@pytest.fixture
def catalog(store):
    for namespace, name, facets in JOBS:
        out = ds(f"{namespace}/{name}")
        store.record(
            run_event("COMPLETE", name, new_run(), namespace=namespace, job_facets=facets, outputs=[out])
        )
    return Catalog(store)


@pytest.mark.parametrize(
    "scope", SCOPES, ids=lambda s: ",".join(sorted(s.dag_ids)) if s.dag_ids else repr(s.dag_ids)
)
def test_sql_and_python_agree_on_every_job_and_its_output(catalog, scope):
    with catalog._read(scope) as (_, resolved):
        expected = {(ns, name) for ns, name, _ in JOBS if job_visible(ns, name, resolved)}
    jobs = set()
    for namespace in ("airflow", "spark"):
        jobs |= {(j["namespace"], j["name"]) for j in catalog.jobs(scope, namespace, 100, 0).items}
    assert jobs == expected
    datasets = {d["name"] for d in catalog.datasets(scope, "sqlite:///data/w.db", 100, 0).items}
    assert datasets == {f"{ns}/{name}" for ns, name in expected}


def test_a_known_dag_under_a_readable_id_shadows_its_jobs(catalog):
    with catalog._read(Scope("airflow", frozenset({"etl"}))) as (_, resolved):
        assert resolved.shadowed == {"etl.private", "etl.private.public"}
    visible = {j["name"] for j in catalog.jobs(Scope("airflow", frozenset({"etl"})), "airflow", 100, 0).items}
    assert visible == {"etl", "etl.clean", "etl.clean.query.1"}


def test_events_that_arrived_out_of_order_do_not_make_a_dataset_restricted(store):
    """Ingest lets a late event add facets but not override a later one's; what a reader of one DAG
    sees of a dataset only that DAG wrote is the stored dataset, whatever order the events came in."""
    scope = Scope("airflow", frozenset({"etl"}))
    facet = {"_producer": "p", "_schemaURL": "s"}
    for minute, facets in ((1, {"x": 1}), (3, {"y": 1}), (2, {"x": 2, "z": 2})):  # one batch each
        out = ds("late", **{key: {**facet, "v": value} for key, value in facets.items()})
        store.record(run_event("COMPLETE", "etl.clean", new_run(), minute=minute, outputs=[out]))
    store.record(run_event("COMPLETE", "other.job", new_run(), outputs=[ds("elsewhere")]))
    catalog = Catalog(store)
    admin = catalog.dataset(Scope("airflow"), "sqlite:///data/w.db", "late")
    assert set(admin["facets"]) == {"x", "y", "z"}  # the late event added z
    seen = catalog.dataset(scope, "sqlite:///data/w.db", "late")
    assert seen["restricted"] is False and seen["facets"] == admin["facets"], seen

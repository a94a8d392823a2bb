"""Running the ``airflow-lineage`` console script as a user does, and the shop pipeline its tests read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.store.events import ds, run_event

BIN = Path(sys.executable).parent / "airflow-lineage"
NS = "sqlite:///srv/data/shop.db"  # a namespace with ':' and '/', as real ones have


def dataset(name: str) -> str:
    return f"dataset:{NS}:{name}"


def job(name: str) -> str:
    return f"job:airflow:{name}"


def column_lineage(fields: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    return {
        "columnLineage": {
            "_producer": "https://github.com/airflow-lineage-provider/tests",
            "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
            "fields": {
                out: {"inputFields": [{"namespace": NS, "name": t, "field": f} for t, f in sources]}
                for out, sources in fields.items()
            },
        }
    }


def shop_events() -> list[dict[str, Any]]:
    """raw_orders, raw_customers -> shop.clean -> clean_orders -> shop.report -> order_report."""
    clean_columns = column_lineage(
        {"order_id": [("raw_orders", "order_id")], "customer_name": [("raw_customers", "name")]}
    )
    steps = [
        ("shop.load_orders", [], [ds("raw_orders", NS)]),
        ("shop.load_customers", [], [ds("raw_customers", NS)]),
        (
            "shop.clean",
            [ds("raw_orders", NS), ds("raw_customers", NS)],
            [ds("clean_orders", NS, **clean_columns)],
        ),
        ("shop.report", [ds("clean_orders", NS)], [ds("order_report", NS)]),
    ]
    events = []
    for minute, (name, inputs, outputs) in enumerate(steps):
        run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"test-cli/{name}"))
        events.append(run_event("START", name, run_id, minute=minute * 10, inputs=inputs))
        events.append(
            run_event("COMPLETE", name, run_id, minute=minute * 10 + 1, inputs=inputs, outputs=outputs)
        )
    return events


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    if not BIN.exists():
        pytest.fail(f"{BIN} is missing: install the package with pip install -e . (bash .ci/setup does)")
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def stored_events(url: str) -> list[dict[str, Any]]:
    from airflow_lineage_provider import LineageStore

    store = LineageStore.from_url(url)
    try:
        return list(store.events())
    finally:
        store.close()

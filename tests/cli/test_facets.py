"""The CLI shows declared lineage (marked, and left out with --no-declared), failing data quality
assertions, and what ingest read leniently in a DatasetEvent."""

from __future__ import annotations

import json
from pathlib import Path

from airflow_lineage_provider import LineageStore
from tests.api.test_facets import DB, _check, _declaring
from tests.cli.shell import cli
from tests.store.events import PRODUCER, at, ds, new_run, run_event


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'facets.db'}"
    store = LineageStore.from_url(url)
    try:
        store.record(
            run_event("COMPLETE", "etl.load", new_run(), minute=1, inputs=[ds("raw")], outputs=[ds("orders")])
        )
        store.record(_check("etl.check", "orders", new_run(), ok=False))
        store.record(_declaring("etl.load", "orders", "summary"))
        store.record(
            {  # a DatasetEvent with no schemaURL: read leniently, and recorded so
                "eventTime": at(40),
                "producer": PRODUCER,
                "dataset": {"namespace": DB, "name": "summary", "facets": {}},
            }
        )
    finally:
        store.close()
    return url


def test_downstream_marks_declared_edges_and_failing_assertions(tmp_path: Path) -> None:
    url = _store(tmp_path)

    tree = cli("downstream", f"dataset:{DB}:orders", "--store-url", url)
    observed = cli("downstream", f"dataset:{DB}:orders", "--store-url", url, "--no-declared", "--json")

    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    assert "FAILING 1/1 assertions" in lines[0]
    assert any("] summary " in line and "(declared)" in line for line in lines)
    assert {e["target"] for e in json.loads(observed.stdout)["edges"]} == {"job:airflow:etl.check"}


def test_show_lists_assertions_declared_inputs_and_dataset_event_normalisations(tmp_path: Path) -> None:
    url = _store(tmp_path)

    orders = json.loads(cli("show", f"dataset:{DB}:orders", "--store-url", url, "--json").stdout)
    summary = json.loads(cli("show", f"dataset:{DB}:summary", "--store-url", url, "--json").stdout)
    text = cli("show", f"dataset:{DB}:summary", "--store-url", url).stdout

    assert [a["failing"] for a in orders["assertions"]] == [1]
    assert summary["declaredInputs"] == [{"id": f"dataset:{DB}:orders", "columns": []}]
    assert [n["field"] for n in summary["normalised"]] == ["schemaURL"]
    assert "schemaURL" in text and f"dataset:{DB}:orders" in text


def test_dot_and_mermaid_draw_declared_edges_dashed(tmp_path: Path) -> None:
    url = _store(tmp_path)

    dot = cli("downstream", f"dataset:{DB}:orders", "--store-url", url, "--format", "dot").stdout
    mermaid = cli("downstream", f"dataset:{DB}:orders", "--store-url", url, "--format", "mermaid").stdout

    boxes = {
        line.split()[0]: line for line in dot.splitlines() if line.strip().startswith("n") and "[" in line
    }
    summary = next(box for box, line in boxes.items() if "summary" in line)
    check = next(box for box, line in boxes.items() if "check" in line)
    edges = {line.strip() for line in dot.splitlines() if "->" in line}
    assert edges == {f"n0 -> {summary} [style=dashed];", f"n0 -> {check};"}
    arrows = {line.strip() for line in mermaid.splitlines() if "->" in line}
    assert arrows == {f"n0 -.-> {summary}", f"n0 --> {check}"}

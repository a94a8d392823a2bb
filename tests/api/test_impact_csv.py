from __future__ import annotations

import csv
import io

from airflow_lineage_provider.api.datamodels.graph import ImpactResponse
from airflow_lineage_provider.core.graph import LineageGraph, Node


def test_impact_csv_keeps_formula_like_names_as_text():
    graph = LineageGraph(
        root="dataset:file:/in",
        direction="downstream",
        depth=2,
        nodes=[
            Node("dataset:file:/in", "dataset", "file", "/in"),
            Node("job:airflow:=HYPERLINK(1)", "job", "airflow", "=HYPERLINK(1)", 1),
            Node("dataset:file:plain", "dataset", "file", "plain", 2),
        ],
        edges=[],
    )
    rows = list(csv.DictReader(io.StringIO(ImpactResponse.from_graph(graph).to_csv())))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(1)", "plain"]
    assert rows[0]["depth"] == "1"

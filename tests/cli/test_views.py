"""The CLI's text output: lineage trees and key: value listings."""

from __future__ import annotations

from airflow_lineage_provider.cli import formats, views
from airflow_lineage_provider.core.graph import Edge, LineageGraph, Node

NS = "sqlite:///data/shop.db"


def dataset(name: str) -> Node:
    return Node(f"dataset:{NS}:{name}", "dataset", NS, name)


def job(name: str) -> Node:
    return Node(f"job:airflow:{name}", "job", "airflow", name)


def diamond() -> LineageGraph:
    """raw feeds two jobs whose outputs meet again in the final table."""
    raw, a, b, final = dataset("raw"), dataset("a"), dataset("b"), dataset("final")
    make_a, make_b, combine = job("make_a"), job("make_b"), job("combine")
    edges = [
        Edge(raw.id, make_a.id, "input"),
        Edge(make_a.id, a.id, "output"),
        Edge(raw.id, make_b.id, "input"),
        Edge(make_b.id, b.id, "output"),
        Edge(a.id, combine.id, "input"),
        Edge(b.id, combine.id, "input"),
        Edge(combine.id, final.id, "output"),
    ]
    return LineageGraph(final.id, "upstream", 20, [final, combine, a, b, make_a, make_b, raw], edges)


def test_upstream_tree_expands_a_shared_ancestor_once() -> None:
    assert formats.plain(views.lineage_tree(diamond(), "upstream")) == "\n".join(
        [
            f"[dataset] final  ({NS})",
            "└── [job] combine  (airflow)",
            f"    ├── [dataset] a  ({NS})",
            "    │   └── [job] make_a  (airflow)",
            f"    │       └── [dataset] raw  ({NS})",
            f"    └── [dataset] b  ({NS})",
            "        └── [job] make_b  (airflow)",
            f"            └── [dataset] raw  ({NS}) (see above)",
        ]
    )


def test_downstream_tree_follows_edges_with_the_data_in_ascii_on_an_ascii_stream() -> None:
    graph = diamond()
    raw = dataset("raw").id
    downstream = LineageGraph(raw, "downstream", 20, graph.nodes, graph.edges)

    lines = formats.plain(views.lineage_tree(downstream, "downstream"), encoding="ascii").splitlines()

    assert lines[0] == f"[dataset] raw  ({NS})"
    assert lines[1] == "+-- [job] make_a  (airflow)"
    assert lines[2] == f"|   `-- [dataset] a  ({NS})"
    assert lines[-1] == "        `-- [job] combine  (airflow) (see above)"  # reached again through b


def test_summary_counts_the_nodes_beyond_the_root_and_says_when_there_are_none() -> None:
    lonely = LineageGraph(dataset("raw").id, "upstream", 5, [dataset("raw")], [])

    assert views.lineage_summary(diamond(), "upstream") == "6 upstream nodes within depth 20"
    assert views.lineage_summary(lonely, "upstream") == f"no upstream lineage recorded for dataset:{NS}:raw"


def test_key_values_lists_facets_by_name_and_long_lists_one_value_a_line() -> None:
    details = {
        "id": "job:airflow:etl.clean",
        "facets": {"sql": {"query": "SELECT 1"}, "jobType": {"jobType": "TASK"}},
        "latestRuns": [{"runId": "r1", "state": "COMPLETED"}],
        "inputs": [f"dataset:{NS}:raw_orders", f"dataset:{NS}:raw_customers"],
        "outputs": [f"dataset:{NS}:clean_orders"],
        "parentJob": None,
        "columnLineage": [
            {"field": "total", "inputFields": [{"namespace": NS, "name": "raw_orders", "field": "amount"}]}
        ],
    }

    assert views.key_values(details).splitlines() == [
        "id: job:airflow:etl.clean",
        "facets: jobType, sql",
        "latestRuns:",
        "  - runId: r1",
        "    state: COMPLETED",
        "inputs:",
        f"  - dataset:{NS}:raw_orders",
        f"  - dataset:{NS}:raw_customers",
        f"outputs: dataset:{NS}:clean_orders",
        "columnLineage:",
        "  total <- raw_orders.amount",
    ]


def test_names_that_look_like_markup_or_html_print_as_written() -> None:
    odd = Node(
        f"dataset:{NS}:[bold red]x[/]", "dataset", NS, "[bold red]x[/]", data={"version": "0123456789"}
    )
    html = Node("job:airflow:<img src=x onerror=alert(1)>", "job", "airflow", "<img src=x onerror=alert(1)>")
    graph = LineageGraph(odd.id, "upstream", 2, [odd, html], [Edge(html.id, odd.id, "output")])

    lines = formats.plain(views.lineage_tree(graph, "upstream")).splitlines()
    table = formats.plain(views.nodes_table(graph.nodes, with_depth=True))

    assert lines == [
        f"[dataset] [bold red]x[/]  ({NS})  version 01234567",
        "└── [job] <img src=x onerror=alert(1)>  (airflow)",
    ]
    assert "[bold red]x[/]" in table and "<img src=x onerror=alert(1)>" in table

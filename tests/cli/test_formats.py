"""Every read command of ``airflow-lineage`` in every output format, run as a user runs it."""

from __future__ import annotations

import io
import json
import re
import uuid
from pathlib import Path

import pydot
import pytest

from airflow_lineage_provider import LineageStore
from airflow_lineage_provider.cli import formats
from tests.cli.shell import cli, dataset, job
from tests.cli.test_diagram import parse_mermaid  # also loads pydot's parser quietly
from tests.store.events import ds, run_event

READS = {
    "upstream": lambda: ["upstream", dataset("order_report")],
    "downstream": lambda: ["downstream", dataset("raw_orders")],
    "show dataset": lambda: ["show", dataset("clean_orders")],
    "show job": lambda: ["show", job("shop.clean")],
    "show run": lambda: ["show", f"run:{uuid.uuid5(uuid.NAMESPACE_URL, 'test-cli/shop.clean')}"],
    "search": lambda: ["search", "ORDER"],
}


def run_read(command: str, fmt: str, url: str) -> str:
    result = cli(*READS[command](), "--format", fmt, "--store-url", url)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "\x1b[" not in result.stdout  # not a terminal: no escape codes
    return result.stdout


@pytest.mark.parametrize("command", sorted(READS))
def test_json_is_the_same_with_format_json_and_with_the_json_alias(command: str, shop_url: str) -> None:
    by_format = json.loads(run_read(command, "json", shop_url))
    by_alias = cli(*READS[command](), "--json", "--store-url", shop_url)

    assert by_alias.returncode == 0, by_alias.stderr
    assert json.loads(by_alias.stdout) == by_format


@pytest.mark.parametrize("command", sorted(READS))
def test_dot_parses_and_has_a_node_per_json_node(command: str, shop_url: str) -> None:
    as_json = json.loads(run_read(command, "json", shop_url))
    graphs = pydot.graph_from_dot_data(run_read(command, "dot", shop_url))

    assert graphs is not None and len(graphs) == 1
    nodes = [n for n in graphs[0].get_nodes() if n.get("tooltip")]
    by_name = {n.get_name(): n.get("tooltip").strip('"') for n in nodes}
    drawn_edges = {(by_name[e.get_source()], by_name[e.get_destination()]) for e in graphs[0].get_edges()}
    if command == "search":
        expected_nodes, expected_edges = {node["id"] for node in as_json}, set()
    elif command.startswith("show"):

        def ids(key: str) -> list[str]:  # a run lists {"id", "version"}; a job lists ids
            return [item["id"] if isinstance(item, dict) else item for item in as_json.get(key, [])]

        before = as_json.get("producers", []) + ids("inputs")
        after = as_json.get("consumers", []) + ids("outputs")
        expected_nodes = {as_json["id"], *before, *after}
        expected_edges = {(b, as_json["id"]) for b in before} | {(as_json["id"], a) for a in after}
    else:
        expected_nodes = {node["id"] for node in as_json["nodes"]}
        expected_edges = {(edge["source"], edge["target"]) for edge in as_json["edges"]}
    assert set(by_name.values()) == expected_nodes
    assert drawn_edges == expected_edges


@pytest.mark.parametrize("command", sorted(READS))
def test_mermaid_is_a_well_formed_flowchart(command: str, shop_url: str) -> None:
    nodes, edges, _ = parse_mermaid(run_read(command, "mermaid", shop_url).rstrip("\n"))

    assert nodes
    assert (not edges) == (command == "search")


@pytest.mark.parametrize("command", sorted(READS))
def test_table_and_tree_show_every_node_id_or_field(command: str, shop_url: str) -> None:
    as_json = json.loads(run_read(command, "json", shop_url))
    table = run_read(command, "table", shop_url)
    tree = run_read(command, "tree", shop_url)

    if command == "search":
        ids = [node["id"] for node in as_json]
        assert all(node_id in table.split() for node_id in ids)
        assert all(node_id in tree.split() for node_id in ids)
    elif command.startswith("show"):
        assert f"id: {as_json['id']}" in table.splitlines()
        assert f"├── type: {as_json['type']}" in tree.splitlines()
    else:
        ids = [node["id"] for node in as_json["nodes"]]
        assert all(node_id in table.split() for node_id in ids)
        header = ["depth", "type", "name", "namespace", "version", "/", "last", "run", "id"]
        assert table.splitlines()[0].split() == header
        names = [node["name"] for node in as_json["nodes"]]
        assert all(f"] {name}  (" in tree for name in names)


def test_a_long_id_is_never_wrapped_off_a_terminal(tmp_path: Path) -> None:
    long_ns = "s3://" + "very-long-bucket-name-" * 10
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    store = LineageStore.from_url(url)
    try:
        run_id = str(uuid.uuid4())
        store.record(run_event("COMPLETE", "wide.job", run_id, outputs=[ds("t" * 150, long_ns)]))
    finally:
        store.close()

    result = cli("upstream", f"dataset:{long_ns}:{'t' * 150}", "--format", "table", "--store-url", url)

    assert result.returncode == 0, result.stderr
    assert f"dataset:{long_ns}:{'t' * 150}" in result.stdout.split()


def test_format_and_json_together_are_a_usage_error(shop_url: str) -> None:
    result = cli("search", "order", "--json", "--format", "tree", "--store-url", shop_url)

    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def test_on_a_terminal_the_tree_is_coloured_and_says_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_lineage_provider.cli import views
    from tests.cli.test_views import diamond

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    graph = diamond()
    view = formats.View(
        data=None, graph=graph, tree=lambda: views.lineage_tree(graph, "upstream"), table=lambda: ""
    )
    terminal, pipe = Terminal(), io.StringIO()

    formats.write(view, "tree", terminal)
    formats.write(view, "tree", pipe)

    assert "\x1b[" in terminal.getvalue()
    plain = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())
    assert [line.rstrip() for line in plain.splitlines()] == pipe.getvalue().splitlines()


def test_search_shows_each_jobs_last_run_state_and_each_datasets_version(shop_url: str) -> None:
    rows = {line.split()[-1]: line for line in run_read("search", "table", shop_url).splitlines()[1:]}

    assert "last run COMPLETE" in rows[job("shop.load_orders")]
    assert " version " in rows[dataset("raw_orders")]

"""DOT and Mermaid output: parsed back (DOT by pydot, a real parser), whatever the node names hold."""

from __future__ import annotations

import html
import re
import warnings

import pydot
import pytest

from airflow_lineage_provider.cli import diagram
from airflow_lineage_provider.core.graph import Edge, LineageGraph, Node

with warnings.catch_warnings():  # pydot's grammar still calls pyparsing's pre-3.0 names on import
    warnings.simplefilter("ignore", DeprecationWarning)
    import pydot.dot_parser  # noqa: F401

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    'a "quoted" name',
    "back\\slash\\",
    "semi;colon}brace{[bracket]",
    "two\nlines",
    "ünïcødé — 表",
    "%% not a comment",
    "`ticks` & #35; entity",
]


def hostile_graph() -> LineageGraph:
    """One job reading every hostile dataset name and writing a model; the model is the root."""
    ns = 'sqlite:///srv/"odd" dir/db.sqlite'
    datasets = [Node(f"dataset:{ns}:{name}", "dataset", ns, name) for name in HOSTILE]
    job = Node("job:airflow:dag.<task>", "job", "airflow", "dag.<task>")
    model = Node("dataset:file:/models/m.pkl", "dataset", "file", "/models/m.pkl", data={"type": "MODEL"})
    edges = [Edge(d.id, job.id, "input") for d in datasets] + [Edge(job.id, model.id, "output")]
    return LineageGraph(model.id, "upstream", 2, [model, job, *datasets], edges)


def dot_unquote(value: str) -> str:
    """The escString a DOT quoted string stands for (what Graphviz draws)."""
    assert value.startswith('"') and value.endswith('"'), value
    body = value[1:-1]
    out, index = [], 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            following = body[index + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(following, "\\" + following))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def test_dot_is_parsed_by_pydot_with_every_name_intact() -> None:
    graph = hostile_graph()

    parsed = pydot.graph_from_dot_data(diagram.to_dot(graph))

    assert parsed is not None and len(parsed) == 1
    dot = parsed[0]
    nodes = {n.get_name(): n for n in dot.get_nodes() if n.get_name() not in ("node", "edge", "graph")}
    by_tooltip = {dot_unquote(n.get("tooltip")): name for name, n in nodes.items()}
    assert set(by_tooltip) == {n.id for n in graph.nodes}
    for node in graph.nodes:
        label = dot_unquote(nodes[by_tooltip[node.id]].get("label"))
        assert label == f"{node.name}\n{node.namespace}"
    edges = {(e.get_source(), e.get_destination()) for e in dot.get_edges()}
    assert edges == {(by_tooltip[e.source], by_tooltip[e.target]) for e in graph.edges}


def test_dot_marks_the_root_and_draws_datasets_jobs_and_models_differently() -> None:
    graph = hostile_graph()
    dot = pydot.graph_from_dot_data(diagram.to_dot(graph))[0]  # type: ignore[index]
    shapes = {dot_unquote(n.get("tooltip")): (n.get("shape"), n.get("penwidth")) for n in dot.get_nodes()[1:]}

    assert shapes["dataset:file:/models/m.pkl"] == ("component", "2")
    assert shapes["job:airflow:dag.<task>"] == ("box", None)
    assert {shape for node_id, (shape, _) in shapes.items() if "sqlite" in node_id} == {"cylinder"}


MERMAID_NODE = re.compile(r'^    (n\d+)(\[\("|\["|\{\{"|\(\[")([^"]*)("\)\]|"\]|"\}\}|"\]\))$')
MERMAID_EDGE = re.compile(r"^    (n\d+) --> (n\d+)$")
MERMAID_CLASSDEF = re.compile(r"^    classDef (\w+) [\w:#,.-]+$")
MERMAID_CLASS = re.compile(r"^    class (n\d+(?:,n\d+)*) (\w+)$")
ENTITY = re.compile(r"#(\d+);")


def mermaid_decode(label: str) -> list[str]:
    """The text lines a Mermaid label shows: entities decoded, split at our <br/>."""
    return [ENTITY.sub(lambda m: chr(int(m.group(1))), part) for part in label.split("<br/>")]


def parse_mermaid(text: str) -> tuple[dict[str, tuple[str, str]], set[tuple[str, str]], dict[str, set[str]]]:
    """A strict reading of the flowchart subset we write; any other line fails the test."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, tuple[str, str]] = {}
    edges: set[tuple[str, str]] = set()
    defined: set[str] = set()
    classes: dict[str, set[str]] = {}
    for line in lines[1:]:
        if match := MERMAID_NODE.match(line):
            node_id, opening, label, _ = match.groups()
            # Only our <br/> may be markup; every other character is plain or an entity.
            assert re.fullmatch(r"[A-Za-z0-9 _\-./:@=+,#;]*", label.replace("<br/>", "")), label
            nodes[node_id] = (opening, label)
        elif match := MERMAID_EDGE.match(line):
            assert match.group(1) in nodes and match.group(2) in nodes, line
            edges.add((match.group(1), match.group(2)))
        elif match := MERMAID_CLASSDEF.match(line):
            defined.add(match.group(1))
        elif match := MERMAID_CLASS.match(line):
            assert match.group(2) in defined, f"class {match.group(2)} used before its classDef"
            classes.setdefault(match.group(2), set()).update(match.group(1).split(","))
        else:
            pytest.fail(f"not a line of the flowchart grammar we write: {line!r}")
    return nodes, edges, classes


def test_mermaid_is_a_flowchart_whose_labels_decode_to_the_names() -> None:
    graph = hostile_graph()

    nodes, edges, classes = parse_mermaid(diagram.to_mermaid(graph))

    shown = {tuple(mermaid_decode(label)) for _, label in nodes.values()}
    assert shown == {(n.name, n.namespace) for n in graph.nodes}
    assert len(edges) == len(graph.edges)
    assert classes["root"] == {"n0"}
    assert nodes["n0"][0] == '{{"'  # the model, drawn as a hexagon
    assert len(classes["dataset"]) == len(HOSTILE) and len(classes["job"]) == 1


def test_mermaid_never_lets_a_name_open_a_tag_or_end_a_label() -> None:
    text = diagram.to_mermaid(hostile_graph())

    assert "<img" not in text and "onerror=alert(1)>" not in text
    assert html.unescape(text).count('"') == text.count('"')  # no quote smuggled in as &quot;
    assert "%%" not in text


def test_nodes_only_named_by_edges_still_get_a_box() -> None:
    graph = LineageGraph("job:a:x", "both", 1, [], [Edge("dataset:ns:t", "job:a:x", "input")])

    nodes, edges, _ = parse_mermaid(diagram.to_mermaid(graph))

    assert len(nodes) == 2 and len(edges) == 1

"""The ``airflow-lineage`` console script, run as a user runs it, against real stores filled via record()."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from airflow_lineage_provider import LineageStore
from tests.cli.shell import (
    NS,
    cli,
    dataset,
    job,
    read_jsonl,
    shop_events,
    stored_events,
    write_jsonl,
)
from tests.store.events import ds, run_event


def test_upstream_prints_an_indented_tree_marking_node_types_versions_and_run_states(shop_url: str) -> None:
    store = LineageStore.from_url(shop_url)
    try:
        version = store.describe(dataset("order_report"))["currentVersion"]
    finally:
        store.close()

    result = cli("upstream", dataset("order_report"), "--store-url", shop_url)

    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout  # not a terminal: no escape codes
    lines = result.stdout.splitlines()
    assert lines[0] == f"[dataset] order_report  ({NS})  version {version[:8]}"
    assert "[job] shop.report  (airflow)  last run COMPLETE" in lines[1]
    names = ("shop.report", "clean_orders", "shop.clean", "raw_orders", "raw_customers", "shop.load_orders")
    indent = {
        name: next(len(x) - len(x.lstrip(" │├└─|`")) for x in lines if f"] {name} " in x) for name in names
    }
    assert indent["shop.report"] < indent["clean_orders"] < indent["shop.clean"] < indent["raw_orders"]
    assert indent["raw_orders"] == indent["raw_customers"] < indent["shop.load_orders"]
    assert "[job] shop.clean  (airflow)" in result.stdout
    assert lines[-1].startswith("7 upstream nodes within depth 20")


def test_upstream_json_has_nodes_and_edges_in_data_flow_direction(shop_url: str) -> None:
    result = cli("upstream", dataset("order_report"), "--json", "--store-url", shop_url)

    assert result.returncode == 0, result.stderr
    graph = json.loads(result.stdout)
    assert graph["root"] == dataset("order_report")
    assert graph["direction"] == "upstream"
    ids = {node["id"] for node in graph["nodes"]}
    assert {
        dataset("raw_orders"),
        dataset("raw_customers"),
        job("shop.clean"),
        job("shop.load_orders"),
    } <= ids
    edges = {(edge["source"], edge["target"]) for edge in graph["edges"]}
    assert (dataset("raw_orders"), job("shop.clean")) in edges
    assert (job("shop.clean"), dataset("clean_orders")) in edges


def test_upstream_stops_at_the_requested_depth(shop_url: str) -> None:
    result = cli("--store-url", shop_url, "upstream", dataset("order_report"), "--depth", "2", "--json")

    assert result.returncode == 0, result.stderr
    ids = {node["id"] for node in json.loads(result.stdout)["nodes"]}
    assert ids == {dataset("order_report"), job("shop.report"), dataset("clean_orders")}


def test_downstream_of_a_raw_table_reaches_the_report(shop_url: str) -> None:
    text = cli("downstream", dataset("raw_orders"), "--store-url", shop_url)
    as_json = cli("downstream", dataset("raw_orders"), "--store-url", shop_url, "--json")

    assert text.returncode == 0, text.stderr
    assert "[dataset] order_report" in text.stdout
    assert "raw_customers" not in text.stdout  # a sibling input, not downstream
    ids = {node["id"] for node in json.loads(as_json.stdout)["nodes"]}
    assert {job("shop.clean"), dataset("clean_orders"), job("shop.report"), dataset("order_report")} <= ids
    assert dataset("raw_customers") not in ids


def test_show_prints_readable_key_values_with_column_lineage(shop_url: str) -> None:
    result = cli("show", dataset("clean_orders"), "--store-url", shop_url)

    assert result.returncode == 0, result.stderr
    assert "type: dataset" in result.stdout.splitlines()
    assert "name: clean_orders" in result.stdout.splitlines()
    assert "customer_name <- raw_customers.name" in result.stdout
    assert "{" not in result.stdout  # no raw JSON in the human output


def test_show_json_is_the_node_description(shop_url: str) -> None:
    result = cli("show", job("shop.clean"), "--json", "--store-url", shop_url)

    assert result.returncode == 0, result.stderr
    details = json.loads(result.stdout)
    assert details["id"] == job("shop.clean")
    assert details["type"] == "job"


def test_search_lists_node_ids_to_paste_into_the_next_command(shop_url: str) -> None:
    result = cli("search", "order", "--store-url", shop_url)

    assert result.returncode == 0, result.stderr
    assert dataset("order_report") in result.stdout.split()


def test_unknown_node_exits_1_with_one_error_line(shop_url: str) -> None:
    result = cli("upstream", dataset("no_such_table"), "--store-url", shop_url)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: no node {dataset('no_such_table')}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_malformed_node_id_is_a_usage_error_that_says_how_ids_look(shop_url: str) -> None:
    result = cli("show", "order_report", "--store-url", shop_url)

    assert result.returncode == 2
    assert result.stderr.startswith("error: node id 'order_report' must start with one of dataset:")
    assert "job:<namespace>:<name>" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_store_is_one_error_line_naming_the_setting() -> None:
    result = cli("show", dataset("orders"), "--store-url", "postgresql+psycopg2://nobody@127.0.0.1:1/lineage")

    assert result.returncode == 1
    assert result.stderr.startswith("error: lineage store postgresql+psycopg2://nobody@127.0.0.1:1/lineage")
    assert result.stderr.rstrip().endswith(
        "[lineage_provider] store_url (AIRFLOW__LINEAGE_PROVIDER__STORE_URL); "
        "`airflow-lineage doctor` checks the whole installation"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_store_url_that_is_not_a_url_is_one_error_line_pointing_at_doctor() -> None:
    result = cli("show", dataset("orders"), "--store-url", "not a url")

    assert result.returncode == 1
    assert result.stderr.startswith("error: store URL 'not a url' is not a SQLAlchemy URL")
    assert result.stderr.rstrip().endswith(
        "`airflow-lineage doctor` shows each [lineage_provider] value and where it comes from"
    )
    assert "Traceback" not in result.stderr


def test_debug_adds_the_traceback(shop_url: str) -> None:
    result = cli("--debug", "show", dataset("no_such_table"), "--store-url", shop_url)

    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "NodeNotFoundError" in result.stderr


def test_a_missing_argument_is_a_usage_error() -> None:
    result = cli("upstream")

    assert result.returncode == 2
    assert "the following arguments are required: NODE" in result.stderr


def test_without_store_url_the_store_comes_from_airflow_config(shop_url: str, tmp_path: Path) -> None:
    result = cli(
        "show", dataset("order_report"), env={"AIRFLOW__LINEAGE_PROVIDER__STORE_URL": shop_url}, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "name: order_report" in result.stdout.splitlines()


def test_db_upgrade_creates_the_schema_and_prints_its_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = cli("db", "upgrade", "--store-url", url, "--json")
    again = cli("db", "upgrade", "--store-url", url)

    assert first.returncode == 0, first.stderr
    revision = json.loads(first.stdout)["revision"]
    assert revision
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"lineage store is at revision {revision}"


def test_ingest_stores_every_event_of_a_jsonl_file_once(store_url: str, tmp_path: Path) -> None:
    events = shop_events()
    lines = [json.dumps(e) for e in events]
    path = write_jsonl(tmp_path / "events.jsonl", [*lines[:3], "", *lines[3:]])  # a blank line is skipped

    first = cli("ingest", str(path), "--store-url", store_url)
    second = cli("ingest", str(path), "--store-url", store_url, "--json")

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"{path}: {len(events)} events stored, 0 duplicates skipped"
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {"file": str(path), "stored": 0, "duplicates": len(events)}
    assert len(stored_events(store_url)) == len(events)


def test_ingest_of_an_invalid_event_names_line_and_field_and_stores_nothing(
    store_url: str, tmp_path: Path
) -> None:
    events = shop_events()
    events[2]["eventTime"] = "2026-01-01 at noon"  # not a time
    path = write_jsonl(tmp_path / "bad.jsonl", ["", *(json.dumps(e) for e in events)])
    LineageStore.from_url(store_url).upgrade()  # an existing, empty store, so "nothing stored" can be read

    result = cli("ingest", str(path), "--store-url", store_url)

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path} line 4: eventTime: ")
    assert result.stderr.rstrip().endswith("nothing from this file was stored")
    assert "Traceback" not in result.stderr
    assert stored_events(store_url) == []


def test_ingest_of_a_line_that_is_not_json_stores_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    path = write_jsonl(tmp_path / "broken.jsonl", [json.dumps(shop_events()[0]), '{"eventType": "START",'])
    LineageStore.from_url(url).upgrade()

    result = cli("ingest", str(path), "--store-url", url)

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {path} line 2: not valid JSON")
    assert stored_events(url) == []


def test_ingest_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = cli("ingest", str(tmp_path / "absent.jsonl"), "--store-url", f"sqlite:///{tmp_path / 'l.db'}")

    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "No such file or directory" in result.stderr


def test_export_then_ingest_round_trips_every_event(shop_url: str, store_url: str, tmp_path: Path) -> None:
    exported = tmp_path / "export.jsonl"
    again = tmp_path / "again.jsonl"

    first = cli("export", "--output", str(exported), "--store-url", shop_url)
    loaded = cli("ingest", str(exported), "--store-url", store_url)
    second = cli("export", "-o", str(again), "--store-url", store_url)

    assert first.returncode == 0, first.stderr
    assert first.stderr.strip() == f"exported {len(shop_events())} events to {exported}"
    assert loaded.returncode == 0, loaded.stderr
    assert second.returncode == 0, second.stderr
    # Same events in the same order (PostgreSQL's JSONB may reorder keys, so compare parsed JSON).
    assert read_jsonl(again) == read_jsonl(exported) == shop_events()


def test_export_writes_jsonl_to_stdout_by_default(shop_url: str) -> None:
    result = cli("export", "--store-url", shop_url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(shop_events())
    assert all(json.loads(line)["job"]["namespace"] == "airflow" for line in lines)


def test_ingest_reads_events_as_marquez_does_and_show_lists_what_it_read_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    run_id = str(uuid.uuid4())
    no_url = run_event("START", "lenient.cli", run_id, inputs=[ds("cli_in")])
    del no_url["schemaURL"]
    naive = run_event(
        "COMPLETE", "lenient.cli", run_id, minute=1, inputs=[ds("cli_in")], outputs=[ds("cli_out")]
    )
    naive["eventTime"] = "2026-01-01T00:01:00"
    path = write_jsonl(tmp_path / "lenient.jsonl", [json.dumps(no_url), json.dumps(naive)])

    ingested = cli("ingest", str(path), "--store-url", url)
    shown = cli("show", f"run:{run_id}", "--json", "--store-url", url)

    assert ingested.returncode == 0, ingested.stderr
    assert shown.returncode == 0, shown.stderr
    details = json.loads(shown.stdout)
    assert details["state"] == "COMPLETED"
    assert {(n["eventType"], n["field"]) for n in details["normalised"]} == {
        ("START", "schemaURL"),
        ("COMPLETE", "eventTime"),
    }
    assert stored_events(url) == [no_url, naive]

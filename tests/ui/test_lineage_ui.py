"""The Lineage view end to end in real headless Chromium (Debian's ``chromium``, driven by Playwright),
inside a real ``airflow api-server`` whose lineage store was filled by running the example DAGs with
``airflow dags test``. A user logs in through Airflow's own login page, opens Browse > Lineage,
searches, sees the graph, opens a node's details, downloads the impact CSV, expands a node, uses the
DAG page's Lineage tab, in light and dark mode; a dataset named like markup stays text.

Screenshots go to a temporary directory, so a test run leaves the tree as it was. To refresh the
README's pictures in ``docs/``: ``LINEAGE_UI_SCREENSHOTS=docs bash .ci/run tests/ui`` (a path relative to
the repository, or absolute)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO
from tests.integration.apiserver import ApiServer, running_api_server

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
XSS_NAME = "<img src=x onerror=alert(1)>"
SCREENSHOTS_ENV = "LINEAGE_UI_SCREENSHOTS"


@dataclass(frozen=True)
class Deployment:
    server: ApiServer
    db: Path
    data_dir: Path

    def dataset(self, table: str) -> str:
        return f"dataset:sqlite://{self.db}:{table}"


def _chromium() -> str:
    if os.path.exists(CHROMIUM) or shutil.which("chromium"):
        return CHROMIUM if os.path.exists(CHROMIUM) else str(shutil.which("chromium"))
    reason = "Debian's chromium is not installed (the set-up command `bash .ci/setup` installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("ui")
    db, data_dir = tmp / "example.db", tmp / "data"
    extra = {
        "AIRFLOW_CONN_LINEAGE_EXAMPLE_SQLITE": json.dumps({"conn_type": "sqlite", "host": str(db)}),
        "LINEAGE_EXAMPLE_DATA_DIR": str(data_dir),
    }
    commands = [
        ("dags", "reserialize"),
        ("dags", "test", "lineage_example_etl"),
        ("dags", "test", "lineage_example_ml"),
    ]
    with running_api_server(tmp, REPO / "dags", extra, commands) as server:
        deployment = Deployment(server, db, data_dir)
        _ingest_markup_named_dataset(deployment)
        yield deployment


def _ingest_markup_named_dataset(deployment: Deployment) -> None:
    """A producer outside Airflow writes a dataset whose name is HTML, fed by the ETL's report."""
    event = {
        "eventType": "COMPLETE",
        "eventTime": "2026-01-01T00:00:00Z",
        "producer": "https://example.com/ui-test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "publisher", "name": "publish_report"},
        "inputs": [{"namespace": f"sqlite://{deployment.db}", "name": "order_report"}],
        "outputs": [{"namespace": "s3://reports", "name": XSS_NAME}],
    }
    _post(deployment, event)


def _post(deployment: Deployment, event: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Record an event (or a list of them, as one batch) as admin."""
    server = deployment.server
    response = httpx.post(
        f"{server.base_url}/lineage/api/v1/lineage" + ("/batch" if isinstance(event, list) else ""),
        json=event,
        headers={"Authorization": f"Bearer {server.tokens['admin']}"},
    )
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$LINEAGE_UI_SCREENSHOTS`` (``docs``: the README's), else a temp dir."""
    chosen = os.environ.get(SCREENSHOTS_ENV)
    if not chosen:
        return tmp_path_factory.mktemp("screenshots")
    path = REPO / chosen  # an absolute path stays as it is
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser(deployment: Deployment) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Session:
    page: Any
    dialogs: list[str]
    base_url: str

    def frame(self) -> Any:
        return self.page.frame_locator("iframe")

    def node_ids(self) -> list[str]:
        nodes = self.frame().locator("[data-testid=lineage-node]")
        nodes.first.wait_for()
        return list(nodes.evaluate_all("els => els.map(e => e.dataset.nodeId)"))


def _login(browser: Any, deployment: Deployment, scheme: str) -> Session:
    server = deployment.server
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, color_scheme=scheme, accept_downloads=True
    )
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(server.base_url + "/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", server.passwords["admin"])
    page.click("button[type=submit]")
    page.wait_for_url(server.base_url + "/")
    return Session(page, dialogs, server.base_url)


@pytest.fixture
def light(browser: Any, deployment: Deployment) -> Iterator[Session]:
    session = _login(browser, deployment, "light")
    yield session
    session.page.context.close()


def _search_and_open(session: Session, text: str, pick: str) -> None:
    """Type ``text`` in the search box and open the result whose name is ``pick`` (or ends in /pick)."""
    frame = session.frame()
    frame.get_by_label("Search lineage").fill(text)
    results = frame.get_by_role("listbox", name="Search results")
    name = frame.locator(".result-name", has_text=re.compile(f"(^|/){re.escape(pick)}$"))
    results.get_by_role("button").filter(has=name).first.click()


def test_browse_lineage_search_graph_details_and_impact_csv(
    light: Session, deployment: Deployment, screenshots: Path
) -> None:
    page = light.page
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="Lineage").click()
    frame = light.frame()
    frame.get_by_label("Search lineage").wait_for()

    _search_and_open(light, "report", "order_report")
    ids = set(light.node_ids())
    report = deployment.dataset("order_report")
    upstream = {deployment.dataset(t) for t in ("raw_orders", "raw_customers", "clean_orders")}
    assert report in ids and upstream <= ids, ids
    assert "job:airflow:lineage_example_etl.build_order_report" in ids
    assert f"dataset:s3://reports:{XSS_NAME}" in ids  # downstream too (direction "both")
    kinds = dict(
        frame.locator("[data-testid=lineage-node]").evaluate_all(
            "els => els.map(e => [e.dataset.nodeId, e.dataset.kind])"
        )
    )
    assert kinds[report] == "dataset" and kinds["job:airflow:lineage_example_etl.build_order_report"] == "job"

    panel = frame.get_by_test_id("side-panel")
    assert panel.get_by_role("heading").first.inner_text() == "order_report"
    schema = panel.get_by_test_id("schema")
    for column in ("country", "orders", "revenue", "avg_order_value", "median_order_value"):
        assert schema.get_by_role("cell", name=column, exact=True).count() == 1, column
    assert "INSERT INTO order_report" in panel.get_by_test_id("sql").inner_text()
    assert "completed" in panel.get_by_test_id("runs").first.inner_text()
    assert panel.get_by_test_id("versions").locator("li").count() >= 1
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / "ui-lineage-light.png"))

    frame.locator(".react-flow__controls-fitview").click()  # the whole graph: raw_orders is off-screen
    frame.locator(f'[data-node-id="{deployment.dataset("raw_orders")}"]').click()
    panel.get_by_role("tab", name="Impact").click()
    impact = panel.get_by_test_id("impact")
    impact.locator(f'li[title="{report}"]').wait_for()
    with page.expect_download() as download:
        impact.get_by_test_id("impact-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    downloaded = {row["id"] for row in rows}
    assert {report, deployment.dataset("clean_orders"), f"dataset:s3://reports:{XSS_NAME}"} <= downloaded
    assert deployment.dataset("raw_customers") not in downloaded  # upstream only: not impacted
    assert light.dialogs == []


def test_depth_bounds_the_graph_and_a_frontier_node_expands_in_place(
    light: Session, deployment: Deployment
) -> None:
    light.page.goto(f"{light.base_url}/plugin/lineage")
    frame = light.frame()
    frame.get_by_label("Depth").fill("1")
    frame.get_by_label("Direction").select_option("downstream")
    _search_and_open(light, "raw_orders", "raw_orders")
    frame.locator("[data-testid=lineage-node]").nth(1).wait_for()
    first = set(light.node_ids())
    assert first == {deployment.dataset("raw_orders"), "job:airflow:lineage_example_etl.build_clean_orders"}
    frame.get_by_role("button", name="Expand lineage_example_etl.build_clean_orders").click()
    frame.locator(f'[data-node-id="{deployment.dataset("clean_orders")}"]').wait_for()
    assert first < set(light.node_ids())


def test_the_dag_page_has_a_lineage_tab_with_what_the_dag_reads_and_writes(
    light: Session, deployment: Deployment, screenshots: Path
) -> None:
    page = light.page
    page.goto(f"{light.base_url}/dags/lineage_example_etl")
    page.locator('a[href$="/plugin/dag-lineage"]').click()
    ids = set(light.node_ids())
    tasks = {f"job:airflow:lineage_example_etl.{t}" for t in ("load_raw_orders", "build_order_report")}
    assert tasks <= ids
    assert {deployment.dataset("raw_orders"), deployment.dataset("order_report")} <= ids
    assert not any("lineage_example_ml" in node for node in ids)
    assert light.frame().get_by_test_id("dag-chip").inner_text() == "DAG lineage_example_etl"
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / "ui-dag-tab.png"))


def test_a_model_is_drawn_as_a_model(light: Session, deployment: Deployment) -> None:
    light.page.goto(f"{light.base_url}/plugin/lineage")
    _search_and_open(light, "model.pkl", "model.pkl")
    frame = light.frame()
    model = frame.locator('[data-kind="model"]')
    model.first.wait_for()
    assert "model.pkl" in model.first.inner_text()
    assert frame.locator('[data-kind="dataset"]').filter(has_text="features.csv").count() == 1
    # its side panel shows the metrics evaluate logged for its current version
    metrics = frame.get_by_test_id("side-panel").get_by_test_id("model-metrics")
    metrics.wait_for()
    for name in ("rmse", "r2"):
        assert metrics.get_by_role("cell", name=name, exact=True).count() == 1, name


def test_a_deployment_is_drawn_after_its_model_and_a_served_trace_id_is_found_by_search(
    light: Session, deployment: Deployment
) -> None:
    """The example DAG's deploy task; then a served prediction (the serving helper, over HTTP to the
    real API server) whose trace id the search box finds, opening the serving run's graph."""
    import hashlib

    from airflow_lineage_provider.serving import LineageClient

    model = deployment.data_dir / "model.pkl"
    version = hashlib.sha256(model.read_bytes()).hexdigest()[:16]  # as the DAG versions it
    lineage = LineageClient(f"{deployment.server.base_url}/lineage", deployment.server.tokens["admin"])
    trace = lineage.log_predictions(
        f"file://{model}",
        version,
        [{"input": {"rooms": 3}, "prediction": 1.0}],
        target="house-prices-api",
        environment="staging",
    )
    light.page.goto(f"{light.base_url}/plugin/lineage")
    _search_and_open(light, "model.pkl", "model.pkl")
    frame = light.frame()
    deployed = frame.locator('[data-kind="deployment"]')
    deployed.first.wait_for()
    assert "house-prices-api" in deployed.first.inner_text()

    _search_and_open(light, trace, "staging.house-prices-api")  # the serving run, named by its job
    frame.locator(f'[data-kind="run"][data-node-id="run:{trace}"]').wait_for()
    assert frame.locator('[data-kind="deployment"]').filter(has_text="house-prices-api").count() == 1
    assert frame.locator('[data-kind="model"]').filter(has_text="model.pkl").count() == 1


def test_a_name_made_of_markup_is_shown_as_text_never_run(light: Session) -> None:
    light.page.goto(f"{light.base_url}/plugin/lineage")
    _search_and_open(light, "onerror", XSS_NAME)
    frame = light.frame()
    node = frame.locator("[data-testid=lineage-node]").filter(has_text="onerror")
    node.first.wait_for()
    assert XSS_NAME in node.first.inner_text()
    assert frame.get_by_test_id("side-panel").get_by_role("heading").first.inner_text() == XSS_NAME
    assert frame.locator("img").count() == 0
    light.page.wait_for_timeout(500)
    assert light.dialogs == []


def test_the_view_follows_airflows_dark_mode(browser: Any, deployment: Deployment, screenshots: Path) -> None:
    session = _login(browser, deployment, "dark")
    try:
        session.page.goto(f"{session.base_url}/plugin/lineage")
        _search_and_open(session, "report", "order_report")
        session.node_ids()
        frame = session.frame()
        theme = frame.locator("html").get_attribute("data-theme")
        background = frame.locator("body").evaluate("el => getComputedStyle(el).backgroundColor")
        assert theme == "dark" and background == "rgb(17, 17, 17)", (theme, background)
        session.page.wait_for_timeout(300)
        session.page.screenshot(path=str(screenshots / "ui-lineage-dark.png"))
    finally:
        session.page.context.close()


def test_the_view_and_its_assets_need_an_airflow_login(deployment: Deployment) -> None:
    base = deployment.server.base_url
    page = httpx.get(f"{base}/lineage/ui/")
    assert page.status_code == 401
    token = deployment.server.tokens["viewer"]
    ok = httpx.get(f"{base}/lineage/ui/", cookies={"_token": token})
    assert ok.status_code == 200 and "Content-Security-Policy" in ok.headers
    asset = next(part.split('"')[0] for part in ok.text.split('src="./')[1:])
    assert httpx.get(f"{base}/lineage/ui/{asset}").status_code == 401
    assert httpx.get(f"{base}/lineage/ui/{asset}", cookies={"_token": token}).status_code == 200
    assert (
        httpx.get(f"{base}/lineage/ui/assets/..%2F..%2Fapi%2Fapp.py", cookies={"_token": token}).status_code
        == 404
    )


def test_declared_lineage_is_dashed_and_failing_assertions_are_shown(
    light: Session, deployment: Deployment
) -> None:
    """A catalog declares order_report -> s3://reports curated (the lineage facet); a check run reports a
    failing assertion on order_report's current version (dataQualityAssertions, as common-sql does)."""
    report = deployment.dataset("order_report")
    schema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/"
    entry = {
        "namespace": "s3://reports",
        "name": "curated",
        "type": "DATASET",
        "inputs": [{"namespace": f"sqlite://{deployment.db}", "name": "order_report", "type": "DATASET"}],
    }
    lineage = {
        "_producer": "https://example.com/catalog",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/LineageFacet.json#/$defs/LineageJobFacet",
        "entries": [entry],
    }
    _post(
        deployment,
        {
            "eventTime": "2026-01-01T00:00:00Z",
            "producer": "https://example.com/catalog",
            "schemaURL": schema + "JobEvent",
            "job": {"namespace": "publisher", "name": "curate", "facets": {"lineage": lineage}},
        },
    )
    assertion = {"assertion": "row_count", "success": False, "name": "report_not_empty", "severity": "error"}
    checked = {"namespace": f"sqlite://{deployment.db}", "name": "order_report"}
    checked["facets"] = {
        "dataQualityAssertions": {
            "_producer": "https://example.com/checks",
            "_schemaURL": "https://openlineage.io/spec/facets/1-1-0/DataQualityAssertionsDatasetFacet.json",
            "assertions": [assertion],
        }
    }
    _post(
        deployment,
        {
            "eventType": "COMPLETE",
            "eventTime": "2030-01-01T00:00:00Z",
            "producer": "https://example.com/checks",
            "schemaURL": schema + "RunEvent",
            "run": {"runId": str(uuid.uuid4())},
            "job": {"namespace": "quality", "name": "check_report"},
            "inputs": [checked],
        },
    )

    light.page.goto(f"{light.base_url}/plugin/lineage")
    _search_and_open(light, "curated", "curated")
    frame = light.frame()
    frame.locator(f'[data-node-id="{report}"]').wait_for()
    declared = frame.locator(".react-flow__edge.declared")
    assert declared.count() == 1
    assert report in (declared.get_attribute("data-testid") or "")
    dash = declared.locator("path.react-flow__edge-path").evaluate("p => getComputedStyle(p).strokeDasharray")
    assert dash not in ("", "none"), dash
    observed = frame.locator(".react-flow__edge:not(.declared) path.react-flow__edge-path")
    if observed.count():
        assert observed.first.evaluate("p => getComputedStyle(p).strokeDasharray") == "none"

    badge = frame.locator(f'[data-node-id="{report}"] [data-testid=failing-assertions]')
    assert badge.inner_text().strip() == "✗ 1/1"
    frame.locator(f'[data-node-id="{report}"]').click()
    panel = frame.get_by_test_id("side-panel")
    assert "1 of 1 data quality assertions failed" in panel.get_by_test_id("assertion-state").inner_text()
    assert (
        "report_not_empty" in panel.get_by_test_id("versions").get_by_test_id("assertions").first.inner_text()
    )
    assert light.dialogs == []


def test_tags_are_searchable_and_shown_with_the_fields_they_name(
    light: Session, deployment: Deployment
) -> None:
    """A catalog tags s3://reports tagged_report (a DatasetEvent): the search box finds it by a tag's
    value, and the side panel shows the dataset's tag and the field-level one beside its column."""
    producer = "https://example.com/catalog"
    facets = {
        "schema": {
            "_producer": producer,
            "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
            "fields": [{"name": "email", "type": "TEXT"}],
        },
        "tags": {
            "_producer": producer,
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet",
            "tags": [
                {"key": "pii", "value": "true", "field": "email"},
                {"key": "tier", "value": "goldilocks"},
            ],
        },
    }
    _post(
        deployment,
        {
            "eventTime": "2026-01-01T00:00:00Z",
            "producer": producer,
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
            "dataset": {"namespace": "s3://reports", "name": "tagged_report", "facets": facets},
        },
    )

    light.page.goto(f"{light.base_url}/plugin/lineage")
    _search_and_open(light, "goldilocks", "tagged_report")  # found by a tag value, not by its name
    panel = light.frame().get_by_test_id("side-panel")
    assert panel.get_by_role("heading").first.inner_text() == "tagged_report"
    assert panel.get_by_test_id("tags").inner_text().split() == ["tier"]
    assert panel.get_by_test_id("schema").get_by_test_id("field-tag").inner_text() == "pii"
    assert light.dialogs == []


def _owned(i: int) -> dict[str, Any]:
    """An ownership job facet on every third consumer."""
    if i % 3:
        return {}
    owners = [{"name": "team-hub", "type": "team"}]
    return {"ownership": {"_producer": "p", "_schemaURL": "https://example.com/o.json", "owners": owners}}


def test_the_impact_tab_counts_a_hub_and_pages_through_all_it_feeds(
    light: Session, deployment: Deployment, screenshots: Path
) -> None:
    """A hub read by more jobs than a page shows: the counts cover everything, the list pages to the end."""
    consumers = 60
    events = [
        {
            "eventType": "COMPLETE",
            "eventTime": "2026-01-02T00:00:00Z",
            "producer": "https://example.com/ui-test",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": str(uuid.uuid4())},
            "job": {"namespace": "consumers", "name": f"consumer_{i:02d}", "facets": _owned(i)},
            "inputs": [{"namespace": "s3://hub", "name": "hub_events"}],
            "outputs": [{"namespace": "s3://derived", "name": f"derived_{i:02d}"}],
        }
        for i in range(consumers)
    ]
    _post(deployment, events)

    light.page.goto(f"{light.base_url}/plugin/lineage")
    _search_and_open(light, "hub_events", "hub_events")
    panel = light.frame().get_by_test_id("side-panel")
    panel.get_by_role("tab", name="Impact").click()
    impact = panel.get_by_test_id("impact")
    total = impact.get_by_test_id("impact-total")
    total.wait_for()
    assert total.inner_text().startswith(f"{2 * consumers} nodes downstream")
    by_type = impact.get_by_test_id("impact-by-type").inner_text().split()
    assert by_type == ["dataset", str(consumers), "job", str(consumers)]
    namespaces = impact.get_by_test_id("impact-by-namespace").inner_text().split()
    assert namespaces == ["consumers", str(consumers), "s3://derived", str(consumers)]
    owners = impact.get_by_test_id("impact-by-owner").inner_text().splitlines()
    assert [line.rsplit(None, 1) for line in owners] == [["team-hub", "20"], ["(no owner)", "100"]]

    seen: list[str] = []
    pager = impact.get_by_test_id("impact-range")
    for start, end in ((1, 50), (51, 100), (101, 120)):
        pager.filter(has_text=f"{start}–{end} of {2 * consumers}").wait_for()
        seen += (
            impact.get_by_test_id("impact-list").locator("li").evaluate_all("els => els.map(e => e.title)")
        )
        if end < 2 * consumers:
            impact.get_by_test_id("impact-next").click()
    assert impact.get_by_test_id("impact-next").is_disabled()
    light.page.screenshot(path=str(screenshots / "ui-impact.png"))
    assert len(seen) == len(set(seen)) == 2 * consumers
    assert {f"job:consumers:consumer_{i:02d}" for i in range(consumers)} <= set(seen)
    impact.get_by_test_id("impact-prev").click()
    pager.filter(has_text=f"51–100 of {2 * consumers}").wait_for()
    assert light.dialogs == []

"""A release as a user meets it: ``python -m build`` from a clean checkout (no node_modules, no built UI)
makes an sdist and a wheel; the wheel carries the built web UI and nothing a user does not run, and,
installed with pip into a fresh virtualenv (no editable install, the repository out of reach), serves
the Lineage view in a real ``airflow api-server`` to headless Chromium."""

from __future__ import annotations

import re
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_lineage_provider import __version__
from tests.conftest import REPO
from tests.integration.apiserver import running_api_server
from tests.integration.conftest import PACKAGE, Dists
from tests.integration.venvs import clean_env, constraints, make_venv, run
from tests.ui.test_lineage_ui import CHROMIUM_ARGS, _chromium

pytestmark = pytest.mark.integration

UI_SOURCES = re.compile(r"\.(tsx?|mjs|cjs)$|(^|/)(package(-lock)?\.json|tsconfig\.json|vite\.config\.ts)$")


def test_the_wheel_carries_the_built_ui_and_every_module(dists: Dists) -> None:
    names = set(dists.wheel_names())
    index = dists.wheel_text(f"{PACKAGE}/ui/dist/index.html")
    referenced = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', index)

    assert {ref.rsplit(".", 1)[-1] for ref in referenced} >= {"js", "css"}, index
    assert {f"{PACKAGE}/ui/dist/{ref}" for ref in referenced} <= names
    modules = subprocess.run(
        [
            "git",
            "ls-files",
            f"{PACKAGE}/*.py",
            f"{PACKAGE}/*.json",
            f"{PACKAGE}/*.mako",
            f"{PACKAGE}/py.typed",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sources = {m for m in modules if "/ui/" not in m}
    assert sources and sources <= names, sorted(sources - names)


def test_the_wheel_has_no_tests_dependency_trees_or_ui_sources(dists: Dists) -> None:
    names = dists.wheel_names()
    dist_info = f"{PACKAGE}-{__version__}.dist-info"

    assert {name.split("/", 1)[0] for name in names} == {PACKAGE, dist_info}
    assert [n for n in names if "node_modules" in n or "__pycache__" in n or n.endswith(".pyc")] == []
    assert [n for n in names if UI_SOURCES.search(n) or f"{PACKAGE}/ui/src/" in n] == []
    assert [
        n for n in names if n.startswith(f"{PACKAGE}/ui/") and not n.startswith(f"{PACKAGE}/ui/dist/")
    ] == []
    assert f"{PACKAGE}/ui/dist/.sources.sha256" not in names


def test_the_wheel_metadata_is_what_a_package_index_shows(dists: Dists) -> None:
    names = dists.wheel_names()
    dist_info = f"{PACKAGE}-{__version__}.dist-info"
    metadata = Parser().parsestr(dists.wheel_text(f"{dist_info}/METADATA"))

    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "Apache-2.0"
    assert "Apache License" in dists.wheel_text(f"{dist_info}/licenses/LICENSE")
    classifiers = metadata.get_all("Classifier") or []
    assert {"Framework :: Apache Airflow", "Framework :: Apache Airflow :: Provider"} <= set(classifiers)
    assert any(c.startswith("Programming Language :: Python :: 3.1") for c in classifiers)
    assert {url.split(",", 1)[0] for url in metadata.get_all("Project-URL") or []} >= {"Source", "Changelog"}
    assert f"{dist_info}/entry_points.txt" in names
    entry_points = dists.wheel_text(f"{dist_info}/entry_points.txt")
    assert "[apache_airflow_provider]" in entry_points and "[airflow.plugins]" in entry_points


def test_the_sdist_carries_the_ui_sources_lock_file_and_bundle_but_no_dependency_tree(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}

    ui = f"{PACKAGE}/ui"
    assert {"setup.py", "LICENSE", "CHANGELOG.md", "pyproject.toml"} <= names
    assert {
        f"{ui}/package.json",
        f"{ui}/package-lock.json",
        f"{ui}/src/main.tsx",
        f"{ui}/index.html",
    } <= names
    assert {f"{ui}/dist/index.html", f"{ui}/dist/.sources.sha256"} <= names
    assert [n for n in names if "node_modules" in n or n.startswith("tests/")] == []


def _login(page: Any, base_url: str, password: str) -> None:
    page.goto(base_url + "/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base_url + "/")


@pytest.fixture
def installed(dists: Dists, tmp_path: Path) -> Iterator[Path]:
    """The wheel installed with pip into a fresh venv (Airflow and every dependency from the index)."""
    python = make_venv(tmp_path / "venv", [str(dists.wheel)], constraints(tmp_path / "constraints.txt"))
    yield python


def test_the_installed_wheel_serves_the_lineage_view_to_chromium(installed: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    where = run(
        [str(installed), "-c", f"import {PACKAGE} as p, pathlib; print(pathlib.Path(p.__file__).resolve())"],
        tmp_path,
        60,
        clean_env(),
    ).strip()
    assert Path(where).is_relative_to(tmp_path / "venv") and not Path(where).is_relative_to(REPO), where

    name = f"wheel_check_{uuid.uuid4().hex[:8]}"
    with running_api_server(tmp_path, python=str(installed)) as server:
        event = {
            "eventType": "COMPLETE",
            "eventTime": "2026-01-01T00:00:00Z",
            "producer": "https://example.com/wheel-test",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": str(uuid.uuid4())},
            "job": {"namespace": "wheel", "name": "copy"},
            "inputs": [{"namespace": "s3://wheel", "name": "source"}],
            "outputs": [{"namespace": "s3://wheel", "name": name}],
        }
        headers = {"Authorization": f"Bearer {server.tokens['admin']}"}
        ingested = httpx.post(f"{server.base_url}/lineage/api/v1/lineage", json=event, headers=headers)
        assert ingested.status_code == 201, ingested.text
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                _login(page, server.base_url, server.passwords["admin"])
                page.goto(f"{server.base_url}/plugin/lineage")
                frame = page.frame_locator("iframe")
                frame.get_by_label("Search lineage").fill(name)
                frame.get_by_role("listbox", name="Search results").get_by_role("button").first.click()
                node = frame.locator(f'[data-node-id="dataset:s3://wheel:{name}"]')
                node.wait_for()
                assert frame.locator('[data-node-id="job:wheel:copy"]').count() == 1
            finally:
                browser.close()

"""The docs: generated reference pages up to date, a strict MkDocs build, and links that resolve."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from airflow_lineage_provider import cli

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
MKDOCS = Path(sys.executable).parent / "mkdocs"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_reference_pages_match_the_code() -> None:
    generator = load_generator()

    stale = [
        str(path.relative_to(REPO))
        for path, text in generator.render_all().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]

    assert not stale, f"out of date: {stale}; run: .venv/bin/python docs/generate.py"


def test_the_cli_reference_has_every_command_and_the_config_reference_every_option() -> None:
    from airflow_lineage_provider.get_provider_info import get_provider_info

    cli_page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    config_page = (DOCS / "reference" / "configuration.md").read_text(encoding="utf-8")
    commands = load_generator()._subparsers(cli.build_parser())

    for name, _ in commands:
        assert f"usage: airflow-lineage {name}" in cli_page, name
    for option in get_provider_info()["config"]["lineage_provider"]["options"]:
        assert f"| `{option}` | `AIRFLOW__LINEAGE_PROVIDER__{option.upper()}` |" in config_page


def test_mkdocs_builds_strictly_without_a_warning(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    built = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("index.html")}
    assert {"tutorial/index.html", "comparison/index.html", "reference/rest/index.html"} <= built


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_readme_links_to_docs_that_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    local = [link for link in LINK.findall(readme) if not re.match(r"[a-z]+://", link)]

    assert any(link.startswith("docs/") for link in local), "the README links to no page of docs/"
    for link in local:
        assert (REPO / link.split("#", 1)[0]).exists(), link


def test_every_command_in_the_docs_is_accepted_by_the_cli_parser() -> None:
    parser = cli.build_parser()
    pages = [DOCS / "tutorial.md", DOCS / "troubleshooting.md", REPO / "README.md"]
    commands = [
        line.removeprefix("$ airflow-lineage ").strip()
        for page in pages
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("$ airflow-lineage ")
    ]

    assert len(commands) >= 10
    for command in commands:
        try:
            parser.parse_args(shlex.split(command))
        except SystemExit:  # argparse's way of saying the command line is wrong
            pytest.fail(f"the docs show a command the CLI rejects: airflow-lineage {command}")

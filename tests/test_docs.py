"""The docs: generated reference pages up to date, a strict MkDocs build, and links that resolve."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from airflow_lineage_provider.cli import main as cli

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
MKDOCS = Path(sys.executable).parent / "mkdocs"
ML_DAG = REPO / "dags" / "lineage_example_ml.py"


def load_docs_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def load_generator() -> ModuleType:
    return load_docs_module("generate")


TUTORIAL = load_docs_module("tutorial")


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
    lines = [line for page in pages for line in page.read_text(encoding="utf-8").splitlines()]
    written = [m.group(1) for m in map(TUTORIAL.TEMPLATE.fullmatch, lines) if m]  # with placeholders
    samples = {"run": "run:00000000-0000-0000-0000-000000000000", "version": "0123456789abcdef"}
    commands = [
        TUTORIAL.PLACEHOLDER.sub(lambda m: samples[m.group(1)], line).removeprefix("$ airflow-lineage ")
        for line in [*lines, *written]
        if line.startswith("$ airflow-lineage ")
    ]

    assert len(commands) >= 25
    for command in commands:
        try:
            parser.parse_args(shlex.split(command))
        except SystemExit:  # argparse's way of saying the command line is wrong
            pytest.fail(f"the docs show a command the CLI rejects: airflow-lineage {command}")


def tutorial_lines() -> list[str]:
    return (DOCS / "tutorial.md").read_text(encoding="utf-8").splitlines()


def test_the_tutorial_shows_each_command_as_written_with_its_placeholders_resolved() -> None:
    outputs = [part for part in TUTORIAL.parts(tutorial_lines()) if part.kind == "output"]
    shapes = {"run": "run:[0-9a-f-]{36}", "version": "[0-9A-Za-z-]+"}

    assert len(outputs) >= 20
    for part in outputs:
        shown = TUTORIAL.shown_commands(part.body)
        assert len(shown) == len(part.commands), part.commands
        for written, command in zip(part.commands, shown, strict=True):
            pieces = TUTORIAL.PLACEHOLDER.split(written)  # text, kind, node, n, text, ...
            assert "{" not in "".join(pieces[::4]), f"a placeholder the generator cannot resolve: {written}"
            for kind, node in zip(pieces[1::4], pieces[2::4], strict=True):
                assert node.startswith("job:" if kind == "run" else "dataset:"), written
            pattern = "".join(
                re.escape(piece) if i % 4 == 0 else shapes[piece] if i % 4 == 1 else ""
                for i, piece in enumerate(pieces)
            )
            assert re.fullmatch(pattern, command), f"{command!r} is not {written!r}: run docs/tutorial.py"


def test_the_tutorial_outputs_and_the_sample_audit_report_are_as_the_generator_wrote_them() -> None:
    lines = tutorial_lines()

    assert TUTORIAL.stamped_digest(lines) == TUTORIAL.digest(lines), (
        "docs/tutorial.md or docs/audit-sample.* changed since docs/tutorial.py made them (outputs are "
        "never edited by hand); commit, then run: .venv/bin/python docs/tutorial.py"
    )


def test_the_tutorials_outputs_were_made_from_a_clean_tree() -> None:
    stamp = next(line for line in tutorial_lines() if TUTORIAL.STAMP.fullmatch(line))

    assert "(a clean tree)" in stamp, stamp


def test_the_sample_audit_reports_are_its_json_as_the_code_renders_it_today() -> None:
    from airflow_lineage_provider import reports

    audit = json.loads((DOCS / "audit-sample.json").read_text(encoding="utf-8"))

    def same(text: str) -> str:  # each format was generated by its own command, a moment apart
        return re.sub(r"Generated \S+", "Generated", text.rstrip("\n"))

    assert same(reports.audit_markdown(audit)) == same((DOCS / "audit-sample.md").read_text(encoding="utf-8"))
    assert same(reports.audit_html(audit)) == same((DOCS / "audit-sample.html").read_text(encoding="utf-8"))


def test_the_sample_audit_report_is_of_the_example_model_in_the_tutorials_home() -> None:
    audit = json.loads((DOCS / "audit-sample.json").read_text(encoding="utf-8"))
    dag = ML_DAG.read_text(encoding="utf-8")

    assert audit["model"] == f"dataset:file:{TUTORIAL.HOME}/lineage_example_data/model.pkl"
    assert f'framework="{audit["modelFacet"]["framework"]}"' in dag
    assert audit["reproducibility"]["reproducible"], "the sample is of the reproducible version"
    assert audit["approvals"], "the sample is of an approved version"
    code = audit["training"]["code"]
    assert code["dagFile"] == f"{code['git']['repository']}/dags/{ML_DAG.name}"


RETIRED = ("model.json", "python-ols")  # the example model before it was a scikit-learn forest


def test_the_tutorial_and_the_sample_name_only_the_tutorials_home_and_what_the_example_dags_have() -> None:
    assets = set(re.findall(r'_asset\("([^"]+)"\)', ML_DAG.read_text(encoding="utf-8")))
    pages = [DOCS / "tutorial.md", *(DOCS / name for name in TUTORIAL.AUDIT_SAMPLES.values())]

    assert "model.pkl" in assets
    for page in [*pages, REPO / "README.md"]:
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r"lineage_example_data/([\w-]+\.[a-z]+)", text):
            assert name in assets, f"{page.name} names {name}, which lineage_example_ml does not write"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for retired in RETIRED:
            assert retired not in text, f"{page.name} still mentions {retired}"
        for path in re.findall(r"/[\w./-]*(?:example\.db|lineage_example_data)", text):
            path = "/" + path.lstrip("/")  # sqlite:///tmp/... names /tmp/...
            assert path.startswith(f"{TUTORIAL.HOME}/"), f"{page.name}: {path} is not in {TUTORIAL.HOME}"


def test_the_edits_the_tutorial_makes_to_the_dags_still_apply() -> None:
    runs = [part for part in TUTORIAL.parts(tutorial_lines()) if part.kind == "run"]
    edits = [
        re.fullmatch(r"sed -i 's/([^/]+)/[^/]*/' (\S+)", line)
        for part in runs
        for line in part.body
        if line.startswith("sed ")
    ]

    assert edits, "the tutorial no longer retrains with a change"
    for edit in edits:
        assert edit is not None, "a sed the test cannot read"
        assert edit.group(1) in (REPO / edit.group(2)).read_text(encoding="utf-8"), edit.group(0)

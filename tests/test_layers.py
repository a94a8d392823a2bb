"""Layers import one way: plugin -> capture -> emit -> store -> core, plugin -> api -> store, and
plugin -> reconcile -> store.

Checked on the source with ``ast``, so an import inside a function (a lazy import) counts too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.imports import PACKAGE, ROOT, imported_modules, module_name

REPO = ROOT.parent

# What each layer must never import (third-party top-level names, or our own subpackages).
FORBIDDEN: dict[str, set[str]] = {
    "core": {"airflow", "sqlalchemy", "alembic", "fastapi", "starlette"}
    | {
        f"{PACKAGE}.{layer}"
        for layer in ("store", "emit", "capture", "api", "plugin", "cli", "ml", "reconcile", "compat")
    },
    "store": {"airflow", "fastapi", "starlette"}
    | {f"{PACKAGE}.{layer}" for layer in ("emit", "capture", "api", "plugin", "cli", "reconcile", "compat")},
    "emit": {f"{PACKAGE}.{layer}" for layer in ("capture", "api", "plugin", "cli")},
    "capture": {f"{PACKAGE}.{layer}" for layer in ("api", "plugin", "cli")},
    "api": {f"{PACKAGE}.{layer}" for layer in ("capture", "emit", "plugin", "cli")},
    # the API server's reconciler reads Airflow's metadata DB and writes the store, nothing of capture
    "reconcile": {f"{PACKAGE}.{layer}" for layer in ("capture", "emit", "api", "plugin", "cli")},
    # the in-task SDK writes to capture's pending record; it never reaches the store or the API
    "ml": {f"{PACKAGE}.{layer}" for layer in ("store", "emit", "api", "plugin", "cli")},
    # the command line reads the store and the outbox; it starts no capture and serves no API
    "cli": {f"{PACKAGE}.{layer}" for layer in ("capture", "api", "plugin", "reconcile")},
    # the served model's helper, for applications outside Airflow: the standard library, our facet
    # builders and naming (themselves stdlib only), nothing else
    "serving": {"airflow", "sqlalchemy", "alembic", "fastapi", "starlette", "pydantic", "openlineage"}
    | {
        f"{PACKAGE}.{layer}"
        for layer in ("store", "emit", "api", "plugin", "cli", "ml", "reconcile", "compat")
    },
    # where Airflow keeps what we use, per minor: Airflow only, nothing of ours
    "compat": {f"{PACKAGE}."},
}


def violates(imported: str, forbidden: set[str]) -> bool:
    # a name ending in "." forbids everything under it (the package's own modules, for compat)
    return any(
        imported.startswith(name)
        if name.endswith(".")
        else imported == name or imported.startswith(name + ".")
        for name in forbidden
    )


def layer_files(layer: str) -> list[Path]:
    module = ROOT / f"{layer}.py"
    return [module] if module.is_file() else sorted((ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    problems = []
    for path in layer_files(layer):
        module = module_name(path)
        for imported in imported_modules(
            path.read_text(encoding="utf-8"), module, path.name == "__init__.py"
        ):
            if violates(imported, FORBIDDEN[layer]):
                problems.append(f"{module} imports {imported}")

    assert not problems, f"{layer} breaks the import direction:\n" + "\n".join(sorted(set(problems)))


def test_every_layer_exists_so_the_rules_check_something() -> None:
    assert all(layer_files(layer) for layer in FORBIDDEN)


def test_the_package_root_holds_no_command_line_modules() -> None:
    # the CLI is one package (cli/); its modules once sat at the root beside plugin.py and conf.py
    at_root = {path.stem for path in ROOT.glob("*.py")}

    assert at_root == {
        "__init__",
        "compat",
        "conf",
        "exceptions",
        "get_provider_info",
        "plugin",
        "reports",
        "serving",
    }


def test_bench_imports_nothing_from_the_tests() -> None:
    problems = []
    for path in sorted((REPO / "bench").rglob("*.py")):
        module = module_name(path, REPO / "bench")
        for imported in imported_modules(
            path.read_text(encoding="utf-8"), module, path.name == "__init__.py"
        ):
            if imported == "tests" or imported.startswith("tests."):
                problems.append(f"{module} imports {imported}")

    assert not problems, "bench/ must not depend on tests/:\n" + "\n".join(sorted(set(problems)))


def test_import_scanner_sees_lazy_relative_and_from_imports() -> None:
    source = (
        "import os\n"
        "from . import reads\n"
        "from ..capture.listener import LineageListener\n"
        "def f():\n"
        "    from airflow.sdk import Asset\n"
        "    import sqlalchemy.orm\n"
    )
    found = set(imported_modules(source, f"{PACKAGE}.store.lineagestore"))

    assert {
        "os",
        f"{PACKAGE}.store.reads",
        f"{PACKAGE}.capture.listener",
        "airflow.sdk",
        "sqlalchemy.orm",
    } <= found
    assert violates("airflow.sdk", FORBIDDEN["store"])
    assert violates(f"{PACKAGE}.capture.listener", FORBIDDEN["store"])
    assert not violates("airflow_lineage_provider_extras", {PACKAGE})


def test_importing_the_package_and_its_provider_info_loads_no_airflow_or_sqlalchemy() -> None:
    # Airflow imports get_provider_info in every CLI call; it must stay cheap.
    code = (
        "import sys, airflow_lineage_provider, airflow_lineage_provider.get_provider_info, "
        "airflow_lineage_provider.core.ids, airflow_lineage_provider.core.naming\n"
        "heavy = sorted(m for m in ('airflow', 'sqlalchemy', 'fastapi') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.strip() == ""

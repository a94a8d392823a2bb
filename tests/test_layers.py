"""Layers import one way: plugin -> capture -> emit -> store -> core, plugin -> api -> store, and
plugin -> reconcile -> store.

Checked on the source with ``ast``, so an import inside a function (a lazy import) counts too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "airflow_lineage_provider"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# What each layer must never import (third-party top-level names, or our own subpackages).
FORBIDDEN: dict[str, set[str]] = {
    "core": {"airflow", "sqlalchemy", "alembic", "fastapi", "starlette"}
    | {
        f"{PACKAGE}.{layer}"
        for layer in ("store", "emit", "capture", "api", "plugin", "cli", "ml", "reconcile")
    },
    "store": {"airflow", "fastapi", "starlette"}
    | {f"{PACKAGE}.{layer}" for layer in ("emit", "capture", "api", "plugin", "cli", "reconcile")},
    "emit": {f"{PACKAGE}.{layer}" for layer in ("capture", "api", "plugin", "cli")},
    "capture": {f"{PACKAGE}.{layer}" for layer in ("api", "plugin", "cli")},
    "api": {f"{PACKAGE}.{layer}" for layer in ("capture", "emit", "plugin", "cli")},
    # the API server's reconciler reads Airflow's metadata DB and writes the store, nothing of capture
    "reconcile": {f"{PACKAGE}.{layer}" for layer in ("capture", "emit", "api", "plugin", "cli")},
    # the in-task SDK writes to capture's pending record; it never reaches the store or the API
    "ml": {f"{PACKAGE}.{layer}" for layer in ("store", "emit", "api", "plugin", "cli")},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> Iterator[str]:
    """Every module an import statement anywhere in ``source`` names, relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from pkg import submodule` imports pkg.submodule
            yield from (f"{base}.{alias.name}" for alias in node.names if alias.name != "*")


def violates(imported: str, forbidden: set[str]) -> bool:
    return any(imported == name or imported.startswith(name + ".") for name in forbidden)


def layer_files(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


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


def test_core_and_store_exist_so_the_rules_check_something() -> None:
    assert layer_files("core") and layer_files("store")


def test_import_scanner_sees_lazy_relative_and_from_imports() -> None:
    source = (
        "import os\n"
        "from . import reads\n"
        "from ..capture.listener import LineageListener\n"
        "def f():\n"
        "    from airflow.sdk import Asset\n"
        "    import sqlalchemy.orm\n"
    )
    found = set(imported_modules(source, f"{PACKAGE}.store.api"))

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

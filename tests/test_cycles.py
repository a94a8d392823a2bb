"""No import cycles inside the package, nor inside bench/: every import counts, lazy ones and
``TYPE_CHECKING`` ones too (a cycle hidden inside a function is still two modules that cannot be
understood apart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.imports import ROOT, cycles, import_graph


@pytest.mark.parametrize("package", [ROOT, ROOT.parent / "bench"], ids=["package", "bench"])
def test_there_is_no_import_cycle(package: Path) -> None:
    found = cycles(import_graph(package))

    assert not found, f"import cycles in {package.name}:\n" + "\n".join(" -> ".join(c) for c in found)


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root / "pkg"


def test_a_cycle_through_a_lazy_and_a_type_checking_import_is_found(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
            "b.py": "def f():\n    from . import c\n",
            "c.py": "import pkg.a\n",
            "d.py": "from pkg import a\n",
        },
    )

    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_a_package_init_counts_when_eager_and_is_a_facade_when_lazy(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "__init__.py": "VERSION = '1'\ndef __getattr__(name):\n    from pkg.store import Store\n",
            "store.py": "from pkg import VERSION\nfrom pkg import sub\n",
            "sub/__init__.py": "from pkg.sub.x import X\n",
            "sub/x.py": "from pkg.store import Store\n",
        },
    )
    graph = import_graph(package)

    assert graph == {
        "pkg": set(),  # its __getattr__ re-exports pkg.store lazily
        "pkg.store": {"pkg", "pkg.sub"},  # VERSION is pkg's own code; sub is a package
        "pkg.sub": {"pkg.sub.x"},  # imported as pkg.sub is: part of every import of pkg.sub
        "pkg.sub.x": {"pkg.store"},
    }
    assert cycles(graph) == [["pkg.store", "pkg.sub", "pkg.sub.x", "pkg.store"]]

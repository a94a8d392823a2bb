"""Capture has one boundary that catches every error: ``never_raise``."""

from __future__ import annotations

import ast
from pathlib import Path

from airflow_lineage_provider.capture.boundary import never_raise
from tests.emit.logs import LineageLog

CAPTURE = Path(__file__).resolve().parents[2] / "airflow_lineage_provider" / "capture"


def test_an_error_is_one_warning_line_and_does_not_escape(lineage_log: LineageLog) -> None:
    with never_raise("capture at task start"):
        raise OSError("disk\nfull")

    assert lineage_log.warnings() == ["lineage: capture at task start failed: OSError: disk full"]


def test_an_error_handler_replaces_the_warning(lineage_log: LineageLog) -> None:
    seen: list[BaseException] = []
    with never_raise("step", on_error=seen.append):
        raise KeyError("k")

    assert [type(e) for e in seen] == [KeyError]
    assert lineage_log.warnings() == []


def test_never_raise_holds_the_only_broad_except_in_capture() -> None:
    broad = [
        path.name
        for path in sorted(CAPTURE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ExceptHandler)
        and (
            node.type is None
            or (isinstance(node.type, ast.Name) and node.type.id in ("Exception", "BaseException"))
        )
    ]

    assert broad == ["boundary.py"]

"""Tab completion: the shell code bash accepts, and the candidates argcomplete offers for a line."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cli.shell import BIN, cli, dataset


def complete(line: str, tmp_path: Path) -> list[str]:
    """What the shell would offer after typing ``line`` (argcomplete's protocol, as bash drives it)."""
    out = tmp_path / "candidates"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_IFS": "\n",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }
    result = subprocess.run([str(BIN)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return [c.strip() for c in out.read_text(encoding="utf-8").split("\n") if c.strip()]


def test_bash_accepts_the_completion_script_and_registers_the_command() -> None:
    script = cli("completion", "bash")
    assert script.returncode == 0, script.stderr

    registered = subprocess.run(
        ["bash", "-c", f'eval "$({BIN} completion bash)" && complete -p airflow-lineage'],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert registered.returncode == 0, registered.stderr
    assert registered.stdout.strip().endswith("airflow-lineage")


def test_commands_complete_from_a_prefix(tmp_path: Path) -> None:
    assert complete("airflow-lineage ups", tmp_path) == ["upstream"]
    assert set(complete("airflow-lineage d", tmp_path)) == {"downstream", "db", "diff", "doctor"}


def test_node_ids_complete_from_the_store(shop_url: str, tmp_path: Path) -> None:
    prefix = dataset("raw_")

    offered = complete(f"airflow-lineage upstream --store-url {shop_url} {prefix}", tmp_path)

    assert set(offered) == {dataset("raw_orders"), dataset("raw_customers")}


def test_a_node_kind_completes_before_any_store_is_read(tmp_path: Path) -> None:
    offered = complete(f"airflow-lineage show --store-url sqlite:///{tmp_path / 'none.db'} j", tmp_path)

    assert offered == ["job:"]


def test_a_missing_store_offers_nothing_and_no_traceback(tmp_path: Path) -> None:
    line = f"airflow-lineage show --store-url sqlite:///{tmp_path / 'none.db'} dataset:x"

    assert complete(line, tmp_path) == []
    assert not (tmp_path / "none.db").exists()

"""Progress bars of long CLI work: drawn on a terminal (stderr), absent anywhere else."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import uuid
from pathlib import Path

from tests.cli.shell import BIN
from tests.store.events import ds, run_event

EVENTS = 400


def events_file(path: Path) -> Path:
    lines = []
    for index in range(EVENTS // 2):
        run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"progress/{index}"))
        outputs = [ds(f"table_{index}")]
        lines.append(json.dumps(run_event("START", f"job_{index}", run_id, minute=index)))
        lines.append(
            json.dumps(run_event("COMPLETE", f"job_{index}", run_id, minute=index + 0.5, outputs=outputs))
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_with_terminal_stderr(*args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe; return code, stdout, terminal."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([str(BIN), *args], stdout=subprocess.PIPE, stderr=terminal, env=env, text=True)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = process.communicate(timeout=120)
    os.close(controller)
    return process.returncode, stdout, seen.decode("utf-8", "replace")


def test_ingest_draws_reading_and_storing_bars_with_counts_on_a_terminal(tmp_path: Path) -> None:
    source = events_file(tmp_path / "events.jsonl")
    url = f"sqlite:///{tmp_path / 'lineage.db'}"

    code, stdout, terminal = run_with_terminal_stderr("ingest", str(source), "--store-url", url)

    assert code == 0, terminal
    assert f"{EVENTS} events stored" in stdout
    assert "reading" in terminal and "storing" in terminal
    assert f"/{EVENTS}" in terminal  # the storing bar counts events out of the total
    assert "\x1b[" in terminal  # drawn, with cursor control, on the terminal only


def test_ingest_and_export_print_no_bar_off_a_terminal(tmp_path: Path) -> None:
    source = events_file(tmp_path / "events.jsonl")
    url = f"sqlite:///{tmp_path / 'lineage.db'}"

    ingest = subprocess.run(
        [str(BIN), "ingest", str(source), "--store-url", url], capture_output=True, text=True
    )
    export = subprocess.run(
        [str(BIN), "export", "-o", str(tmp_path / "out.jsonl"), "--store-url", url],
        capture_output=True,
        text=True,
    )

    assert ingest.returncode == 0 and ingest.stderr == ""
    assert (
        export.returncode == 0 and export.stderr == f"exported {EVENTS} events to {tmp_path / 'out.jsonl'}\n"
    )


def test_export_counts_events_on_a_terminal(tmp_path: Path) -> None:
    source = events_file(tmp_path / "events.jsonl")
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    assert (
        subprocess.run([str(BIN), "ingest", str(source), "--store-url", url], capture_output=True).returncode
        == 0
    )

    code, _, terminal = run_with_terminal_stderr(
        "export", "-o", str(tmp_path / "out.jsonl"), "--store-url", url
    )

    assert code == 0, terminal
    assert "exporting" in terminal
    assert f"exported {EVENTS} events" in terminal
    assert len((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()) == EVENTS

"""The README's quick start, run exactly as written, in a fresh AIRFLOW_HOME, prints what the README shows."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from bench.processes import free_port, stop_group

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
THIS_SUITE = "bash .ci/run"  # the test command runs this very test, so it is not started again here

pytestmark = pytest.mark.integration


def readme_section(title: str) -> str:
    return README.read_text(encoding="utf-8").split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def quick_start_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", readme_section("Try it"), re.S)
    assert block is not None, "the README's Try it section has no bash block"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def readme_demo_output() -> tuple[str, list[str]]:
    """The repository path the README's demo output was made in, and that output's lines."""
    section = readme_section("The CLI")
    match = re.search(
        r"Output of `bash \.ci/demo` \(the repository was at `([^`]+)`\):\n\n```text\n(.*?)```", section, re.S
    )
    assert match is not None, "the README shows no demo output"
    return match.group(1), match.group(2).rstrip("\n").splitlines()


def masked(lines: list[str], home: str) -> list[str]:
    """Lines with what differs from run to run replaced: the home path, ids, versions and times."""
    out = []
    for line in lines:
        line = line.replace(home, "<HOME>")
        line = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<UUID>", line)
        line = re.sub(r"\bversion [0-9a-f]{8}\b", "version <V>", line)
        line = re.sub(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<TIME>", line)
        out.append(line.rstrip())
    return out


def test_the_quick_start_is_two_commands_the_demo_then_the_tests() -> None:
    commands = quick_start_commands()

    assert len(commands) == 2, commands
    assert commands[1] == THIS_SUITE
    assert all((REPO / command.split()[-1]).is_file() for command in commands)


def _the_web_ui_is_reachable(port: int, stdout: str) -> None:
    """The demo's last words name the UI; it answers, behind Airflow's login (admin/admin)."""
    base = f"http://127.0.0.1:{port}"
    assert f"{base}/plugin/lineage" in stdout
    assert httpx.get(f"{base}/lineage/ui/").status_code == 401
    login = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": "admin"})
    token = login.json()["access_token"]
    page = httpx.get(f"{base}/lineage/ui/", cookies={"_token": token})
    assert page.status_code == 200 and "<title>Lineage</title>" in page.text
    report = httpx.get(
        f"{base}/lineage/api/v1/search", params={"q": "order_report"}, cookies={"_token": token}
    )
    assert report.status_code == 200 and report.json()["totalCount"] >= 1


def test_the_demo_runs_as_written_in_a_fresh_airflow_home_and_prints_the_readme_output(
    tmp_path: Path,
) -> None:
    demo = quick_start_commands()[0]
    home = tmp_path / "fresh-airflow-home"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")
    }  # nothing of this session's Airflow
    env["LINEAGE_DEMO_HOME"] = str(home)
    env["LINEAGE_DEMO_PORT"] = str(port := free_port())

    try:
        result = subprocess.run(
            ["bash", "-c", demo], cwd=REPO, env=env, capture_output=True, text=True, timeout=1200
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        _the_web_ui_is_reachable(port, result.stdout)
    finally:
        pid_file = home / "api-server.pid"
        if pid_file.is_file():  # the demo leaves its API server running for the user: stop it
            stop_group(int(pid_file.read_text()))

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (home / "lineage.db").is_file()
    lines = result.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("$ airflow-lineage "))
    last = next(i for i, line in enumerate(lines) if line.startswith("demo: done"))
    shown = masked(lines[first:last], str(home))
    while shown and not shown[-1]:
        shown.pop()
    repo_then, readme_lines = readme_demo_output()
    assert shown == masked(readme_lines, f"{repo_then}/demo-home"), (
        "the README's demo output differs from what the demo prints now; paste the new output"
    )

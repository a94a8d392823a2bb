"""The git state of a DAG's repository: the commit read from ``.git`` in every layout git writes (a task
process runs no git), and the dirty flag the deliverer adds with one ``git status`` per repository."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest

from airflow_lineage_provider.core import gitstate


def git(path: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def repository_with_a_dag(path: Path) -> str:
    """A git repository at ``path`` whose one commit holds ``dag.py``; its commit id."""
    git(path, "init", "-q")
    (path / "dag.py").write_text("x = 1\n")
    git(path, "add", "dag.py")
    git(path, "commit", "-qm", "one")
    return git(path, "rev-parse", "HEAD").strip()


def second_commit(path: Path) -> str:
    (path / "dag.py").write_text("x = 3\n")
    git(path, "commit", "-qam", "two")
    return git(path, "rev-parse", "HEAD").strip()


def test_the_commit_comes_from_a_loose_branch_ref(tmp_path: Path) -> None:
    head = repository_with_a_dag(tmp_path)

    assert gitstate.toplevel(str(tmp_path)) == str(tmp_path)
    assert gitstate.head_commit(str(tmp_path)) == head


def test_the_commit_comes_from_packed_refs(tmp_path: Path) -> None:
    repository_with_a_dag(tmp_path)
    head = second_commit(tmp_path)
    git(tmp_path, "pack-refs", "--all", "--prune")
    assert not list((tmp_path / ".git" / "refs" / "heads").iterdir())

    assert gitstate.head_commit(str(tmp_path)) == head


def test_a_detached_head_names_its_commit(tmp_path: Path) -> None:
    first = repository_with_a_dag(tmp_path)
    second_commit(tmp_path)
    git(tmp_path, "checkout", "-q", "--detach", first)

    assert gitstate.head_commit(str(tmp_path)) == first


def test_a_linked_worktree_reads_its_own_head_and_the_shared_refs(tmp_path: Path) -> None:
    main, linked = tmp_path / "main", tmp_path / "linked"
    main.mkdir()
    first = repository_with_a_dag(main)
    git(main, "worktree", "add", "-q", "-b", "side", str(linked))
    second = second_commit(main)

    assert (linked / ".git").is_file()
    assert gitstate.toplevel(str(linked)) == str(linked)
    assert gitstate.head_commit(str(linked)) == first
    assert gitstate.head_commit(str(main)) == second


def test_a_repository_without_commits_or_a_directory_outside_any_has_no_commit(tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    assert gitstate.toplevel(str(outside)) is None or gitstate.toplevel(str(outside)) != str(outside)
    git(tmp_path, "init", "-q")

    assert gitstate.head_commit(str(tmp_path)) is None
    assert gitstate.status(str(tmp_path)) is None


def event_with_git(record: dict[str, Any]) -> dict[str, Any]:
    code = {"dagFile": "dag.py", "git": record}
    return {"run": {"runId": "x", "facets": {gitstate.REPRODUCIBILITY: {"code": code}}}}


def git_of(event: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = event["run"]["facets"][gitstate.REPRODUCIBILITY]["code"]["git"]
    return record


def test_the_deliverer_adds_whether_the_tree_is_clean_or_dirty_with_the_hash_of_its_diff(
    tmp_path: Path,
) -> None:
    head = repository_with_a_dag(tmp_path)
    clean = event_with_git({"repository": str(tmp_path), "commit": head})
    gitstate.complete([clean])
    (tmp_path / "dag.py").write_text("x = 2\n")
    dirty = [event_with_git({"repository": str(tmp_path), "commit": head}) for _ in range(2)]
    gitstate.complete(dirty)

    assert git_of(clean) == {"repository": str(tmp_path), "commit": head, "dirty": False, "diffHash": None}
    assert git_of(dirty[0])["dirty"] is True and len(git_of(dirty[0])["diffHash"]) == 64
    assert git_of(dirty[1]) == git_of(dirty[0])


def test_a_record_whose_commit_head_no_longer_names_stays_unknown(tmp_path: Path) -> None:
    first = repository_with_a_dag(tmp_path)
    second_commit(tmp_path)
    event = event_with_git({"repository": str(tmp_path), "commit": first})
    gitstate.complete([event])

    assert git_of(event) == {"repository": str(tmp_path), "commit": first}


def test_records_that_are_complete_or_absent_and_repositories_that_are_gone_are_left_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = repository_with_a_dag(tmp_path)
    complete = event_with_git({"repository": str(tmp_path), "commit": head, "dirty": True, "diffHash": "d"})
    gone = event_with_git({"repository": str(tmp_path / "gone"), "commit": head})
    other: list[Any] = [{"run": {"facets": {}}}, {"eventType": "START"}, "not an event"]
    before = copy.deepcopy([complete, gone, *other])
    gitstate.complete([complete, gone, *other])

    assert [complete, gone, *other] == before
    monkeypatch.setenv("PATH", "")  # no git on this host: unknown, never an error
    missing_git = event_with_git({"repository": str(tmp_path), "commit": head})
    gitstate.complete([missing_git])
    assert "dirty" not in git_of(missing_git)

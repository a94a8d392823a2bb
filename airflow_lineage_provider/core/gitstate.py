"""The git state of the repository that holds a DAG file, in two halves.

A task process only reads which commit its repository's ``HEAD`` names, from the files under
``.git`` (:func:`head_commit`: no ``git`` process, a few file reads). Whether the working tree had
uncommitted changes needs ``git status``, which costs a process and its CPU on the task's host; the
deliverer that takes the task's events from the outbox (a long-lived process on the same host)
answers it once per repository and batch (:func:`complete`), and only when ``HEAD`` still names the
commit the task recorded. So ``dirty`` (with ``diffHash``) describes the working tree as it was when
the event was delivered, within the delivery latency of the task (docs/reliability.md); when it
cannot be told (no git, ``HEAD`` moved on) it is left out: unknown, never guessed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable
from typing import Any

Answers = dict[str, "dict[str, Any] | None"]  # git status by working tree, for one batch of events

TIMEOUT = 5.0
REPRODUCIBILITY = "airflowLineage_reproducibility"
_HEX = "0123456789abcdef"


def _is_sha(text: str) -> bool:
    """A full SHA-1 or SHA-256 object name (no regular expression: compiling one costs a task process)."""
    return len(text) in (40, 64) and not text.strip(_HEX)


def toplevel(directory: str) -> str | None:
    """The working tree holding ``directory`` (the nearest parent with a ``.git``), found without git."""
    current = os.path.abspath(directory)
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            return stream.read()
    except OSError:
        return None


def _git_dirs(tree: str) -> tuple[str, str] | None:
    """(the working tree's own git directory, the repository's common one): they differ for a
    ``git worktree``, whose ``.git`` is a file naming its directory."""
    dot_git = os.path.join(tree, ".git")
    if os.path.isdir(dot_git):
        return dot_git, dot_git
    text = _read(dot_git)
    if text is None or not text.startswith("gitdir:"):
        return None
    own = os.path.normpath(os.path.join(tree, text[len("gitdir:") :].strip()))
    common = _read(os.path.join(own, "commondir"))
    return own, os.path.normpath(os.path.join(own, common.strip())) if common else own


def _packed_ref(common: str, ref: str) -> str | None:
    for line in (_read(os.path.join(common, "packed-refs")) or "").splitlines():
        sha, _, name = line.partition(" ")
        if name.strip() == ref and _is_sha(sha):
            return sha
    return None


def head_commit(tree: str) -> str | None:
    """The commit ``HEAD`` names in the working tree ``tree``, read from the files under ``.git``
    (loose and packed refs, detached heads, worktrees); None for a repository without commits.
    A repository that keeps its refs in a reftable is asked with ``git rev-parse``."""
    dirs = _git_dirs(tree)
    if dirs is None:
        return None
    own, common = dirs
    if os.path.isdir(os.path.join(common, "reftable")):
        return _rev_parse(tree)
    head = (_read(os.path.join(own, "HEAD")) or "").strip()
    if _is_sha(head):
        return head
    if not head.startswith("ref:"):
        return None
    ref = head[len("ref:") :].strip()
    for base in (own, common):
        found = (_read(os.path.join(base, ref)) or "").strip()
        if _is_sha(found):
            return found
    return _packed_ref(common, ref)


def _git(args: list[str], cwd: str) -> subprocess.CompletedProcess[bytes] | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=TIMEOUT, check=False, env=env
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _rev_parse(tree: str) -> str | None:
    done = _git(["rev-parse", "--verify", "-q", "HEAD"], tree)
    found = done.stdout.decode().strip() if done is not None and done.returncode == 0 else ""
    return found if _is_sha(found) else None


def status(tree: str) -> dict[str, Any] | None:
    """``{"commit", "dirty", "diffHash"}`` of a working tree from ``git status`` (and ``git diff``
    when it is dirty); None when git cannot answer or the repository has no commits."""
    done = _git(["status", "--porcelain=v2", "--branch", "--untracked-files=no"], tree)
    if done is None or done.returncode != 0:
        return None
    commit, dirty = None, False
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("# branch.oid "):
            commit = line.split(" ", 2)[2].strip()
        elif line[:2] in ("1 ", "2 ", "u "):  # a changed, renamed or unmerged tracked file
            dirty = True
    if commit is None or not _is_sha(commit):  # "(initial)": no commits
        return None
    diff_hash = None
    if dirty:
        diff = _git(["diff", "HEAD", "--binary"], tree)
        diff_hash = hashlib.sha256(diff.stdout if diff is not None else b"").hexdigest()
    return {"commit": commit, "dirty": dirty, "diffHash": diff_hash}


def _records(event: Any) -> dict[str, Any] | None:
    """The ``git`` record of an event's reproducibility facet that still lacks ``dirty``."""
    try:
        git = event["run"]["facets"][REPRODUCIBILITY]["code"]["git"]
    except (KeyError, TypeError):
        return None
    if isinstance(git, dict) and "dirty" not in git and isinstance(git.get("repository"), str):
        return git
    return None


def complete(events: Iterable[Any], answers: Answers | None = None) -> None:
    """Add ``dirty`` and ``diffHash`` to the git records of task events that lack them (in place), with
    one ``git status`` per repository (``answers``: those already known, kept for the next call); a
    record whose commit ``HEAD`` no longer names stays as it is."""
    answers = {} if answers is None else answers
    for event in events:
        git = _records(event)
        if git is None:
            continue
        tree = git["repository"]
        if tree not in answers:
            answers[tree] = status(tree) if os.path.isdir(tree) else None
        found = answers[tree]
        if found is not None and found["commit"] == git.get("commit"):
            git["dirty"], git["diffHash"] = found["dirty"], found["diffHash"]

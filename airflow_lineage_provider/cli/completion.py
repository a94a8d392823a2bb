"""Shell tab completion for ``airflow-lineage`` (argcomplete, which Airflow's own CLI uses).

Commands and options complete from the parser; ``NODE`` arguments complete to node ids found in
the store (``--store-url`` if already typed, else the configured store). Set up with
``eval "$(airflow-lineage completion bash)"`` (or ``zsh``, ``fish``).
"""

from __future__ import annotations

import argparse
from typing import Any

KINDS = ("dataset:", "job:", "run:")
MAX_CANDIDATES = 50


def node_ids(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """Node ids starting with ``prefix``: ``dataset:``/``job:``/``run:`` first, then stored ids."""
    kind, colon, rest = prefix.partition(":")
    if not colon:
        return [k for k in KINDS if k.startswith(prefix)]
    from airflow_lineage_provider import LineageStore
    from airflow_lineage_provider.exceptions import LineageError

    url = getattr(parsed_args, "store_url", None)
    try:
        store = LineageStore.from_url(url) if url else LineageStore.from_airflow_config()
    except LineageError:
        return []
    needle = rest.rsplit(":", 1)[-1]  # the name part typed so far (namespaces hold ':' too)
    try:
        found = store.search(needle, limit=MAX_CANDIDATES, kind=kind if kind in ("dataset", "job") else None)
    except LineageError:  # no store yet, unreachable: nothing to offer, and never a traceback
        return []
    finally:
        store.close()
    return [node.id for node in found if node.id.startswith(prefix)]


def attach(action: argparse.Action) -> argparse.Action:
    """Complete this NODE argument from the store."""
    action.completer = node_ids  # type: ignore[attr-defined]
    return action


def command(args: argparse.Namespace) -> int:
    """``airflow-lineage completion SHELL``: print the shell code that registers the completion."""
    from argcomplete.shell_integration import shellcode

    print(shellcode(["airflow-lineage"], shell=args.shell))
    return 0


def register(commands: Any) -> None:
    """Add ``completion`` to the CLI's subcommands."""
    sub = commands.add_parser(
        "completion",
        help="print the shell code for tab completion",
        description="Tab completion of commands, options and node ids: "
        'eval "$(airflow-lineage completion bash)" in ~/.bashrc (zsh: ~/.zshrc).',
    )
    sub.add_argument("shell", choices=["bash", "zsh", "fish"])
    sub.set_defaults(standalone=command)


def install(parser: argparse.ArgumentParser) -> None:
    """Answer the shell's completion request (then exit) when there is one; otherwise do nothing."""
    import argcomplete

    argcomplete.autocomplete(parser)

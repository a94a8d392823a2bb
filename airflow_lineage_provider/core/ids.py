"""Node ids, written as Marquez writes them.

``dataset:<namespace>:<name>``, ``job:<namespace>:<name>``, ``run:<uuid>`` and
``datasetField:<namespace>:<name>:<field>``. Namespaces are often URLs and contain ``:``
(``postgres://host:5432``, ``sqlite:///abs/path.db``), so parsing picks the URL-shaped prefix as
the namespace; :func:`splits` lists every other reading for a caller that can check which exists.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from airflow_lineage_provider.exceptions import InvalidNodeIdError

NodeKind = Literal["dataset", "job", "run", "datasetField"]
KINDS: tuple[NodeKind, ...] = ("dataset", "job", "run", "datasetField")

# scheme://authority[:port][/path] — the path may not contain ':' (the separator before the name).
_URL_NAMESPACE = re.compile(r"^(?P<ns>[A-Za-z][A-Za-z0-9+.\-]*://[^/:]*(?::\d+)?(?:/[^:]*)?):(?P<rest>.+)$")


@dataclass(frozen=True, order=True)
class NodeId:
    """A parsed node id. ``name`` is empty and ``namespace`` holds the uuid for runs."""

    kind: NodeKind
    namespace: str
    name: str = ""
    field: str | None = None

    def __str__(self) -> str:
        if self.kind == "run":
            return f"run:{self.namespace}"
        text = f"{self.kind}:{self.namespace}:{self.name}"
        return f"{text}:{self.field}" if self.kind == "datasetField" else text

    @property
    def run_id(self) -> str:
        if self.kind != "run":
            raise InvalidNodeIdError(f"{self} is not a run node")
        return self.namespace

    @classmethod
    def dataset(cls, namespace: str, name: str) -> NodeId:
        return cls("dataset", namespace, name)

    @classmethod
    def job(cls, namespace: str, name: str) -> NodeId:
        return cls("job", namespace, name)

    @classmethod
    def run(cls, run_id: str) -> NodeId:
        return cls("run", str(run_id))


def _split_default(rest: str) -> tuple[str, str] | None:
    match = _URL_NAMESPACE.match(rest)
    if match:
        return match.group("ns"), match.group("rest")
    namespace, sep, name = rest.partition(":")
    return (namespace, name) if sep else None


def parse(text: str) -> NodeId:
    """Parse a node id; raise :class:`InvalidNodeIdError` naming what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidNodeIdError(
            "node id is empty; expected dataset:<ns>:<name>, job:<ns>:<name> or run:<uuid>"
        )
    if "\x00" in text:
        raise InvalidNodeIdError("node id contains a NUL character")
    kind, sep, rest = text.strip().partition(":")
    if not sep or kind not in KINDS:
        raise InvalidNodeIdError(
            f"node id {text!r} must start with one of {', '.join(k + ':' for k in KINDS)}"
        )
    if kind == "run":
        try:
            return NodeId.run(str(uuid.UUID(rest)))
        except ValueError as exc:
            raise InvalidNodeIdError(f"node id {text!r}: {rest!r} is not a UUID") from exc
    field: str | None = None
    if kind == "datasetField":
        rest, sep, field = rest.rpartition(":")
        if not sep or not field:
            raise InvalidNodeIdError(f"node id {text!r} must be datasetField:<ns>:<name>:<field>")
    split = _split_default(rest)
    if split is None or not split[0] or not split[1]:
        raise InvalidNodeIdError(f"node id {text!r} must be {kind}:<namespace>:<name>")
    return NodeId(kind, split[0], split[1], field)  # type: ignore[arg-type]


def splits(node: NodeId) -> Iterator[NodeId]:
    """Every other way to cut the same text into namespace and name (for ids whose name has ':')."""
    if node.kind == "run":
        return
    rest = f"{node.namespace}:{node.name}"
    for index, char in enumerate(rest):
        if char == ":" and 0 < index < len(rest) - 1:
            candidate = NodeId(node.kind, rest[:index], rest[index + 1 :], node.field)
            if candidate != node:
                yield candidate


def node_text(kind: str, namespace: str, name: str) -> str:
    """The id of a stored node as text (``dataset:<namespace>:<name>``; a run's uuid is its namespace)."""
    return str(NodeId(kind, namespace, name))  # type: ignore[arg-type]

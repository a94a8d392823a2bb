"""The one error tree of airflow-lineage-provider.

    LineageError                 base of everything we raise on purpose
    ├── ConfigError              a [lineage_provider] option has a bad value
    ├── InvalidEventError        an event (or a field of it) is not valid OpenLineage;
    │                            ``field`` names the JSON path, ``index`` the event in a batch
    ├── InvalidNodeIdError       a node id that does not parse (``dataset:<ns>:<name>`` ...)
    ├── InvalidQueryError        a query argument out of range (depth, direction, as_of)
    ├── NodeNotFoundError        a node id that parses but is not in the store
    └── StoreError               the store cannot be reached or written (wraps SQLAlchemy errors)
        └── SchemaVersionError   the store's schema is newer than this code knows

Library errors are translated once, at the seam, with ``raise Ours(...) from exc``.
"""

from __future__ import annotations


class LineageError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(LineageError):
    """A configuration option has a value that cannot be used."""


class InvalidEventError(LineageError, ValueError):
    """An OpenLineage event is malformed; ``field`` is the JSON path of the first wrong field."""

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None) -> None:
        self.reason = message
        self.field = field
        self.index = index
        where = ""
        if index is not None:
            where += f"event #{index}: "
        if field:
            where += f"{field}: "
        super().__init__(f"{where}{message}")


class InvalidNodeIdError(LineageError, ValueError):
    """A node id that does not follow ``dataset:<ns>:<name>``, ``job:<ns>:<name>`` or ``run:<uuid>``."""


class InvalidQueryError(LineageError, ValueError):
    """A query argument is out of its allowed range."""


class NodeNotFoundError(LineageError, LookupError):
    """The node id is well formed but nothing by that id is stored."""

    def __init__(self, node_id: str, suggestions: list[str] | None = None) -> None:
        self.node_id = node_id
        self.suggestions = suggestions or []
        message = f"no node {node_id}"
        if self.suggestions:
            message += " — did you mean " + ", ".join(self.suggestions) + "?"
        super().__init__(message)


class StoreError(LineageError):
    """The lineage store could not be reached, read or written."""


class SchemaVersionError(StoreError):
    """The store's schema revision is unknown to this version of the package."""

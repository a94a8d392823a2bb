"""Dataset identity: OpenLineage's naming spec, plus our rule for SQLite.

Asset URIs and the connection behind a SQL hook both map here, so an Asset outlet and the SQL that
writes the same table meet in one node:

* SQLite: namespace ``sqlite://<absolute db path>``, name ``<table>`` (``main.`` stripped);
  Asset URI ``sqlite:///abs/path.db/table``.
* PostgreSQL: namespace ``postgres://host:port``, name ``database.schema.table``;
  Asset URI ``postgres://host:port/database/schema/table``.
* Local file: namespace ``file``, name the absolute path; Asset URI ``file:///abs/path``.
* Object stores and anything else: namespace ``scheme://authority``, name the path without ``/``.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

POSTGRES_DEFAULT_PORT = 5432


def sqlite_namespace(database_path: str) -> str:
    """Namespace of a SQLite database file (made absolute, so every process agrees)."""
    return "sqlite://" + os.path.abspath(os.path.expanduser(database_path))


def sqlite_table_name(table: str) -> str:
    """``main.orders`` and ``orders`` are the same SQLite table."""
    parts = [p.strip('"`[]') for p in table.split(".")]
    if len(parts) > 1 and parts[0].lower() == "main":
        parts = parts[1:]
    return ".".join(parts)


def postgres_namespace(host: str | None, port: int | None) -> str:
    return f"postgres://{host or 'localhost'}:{port or POSTGRES_DEFAULT_PORT}"


def postgres_table_name(table: str, database: str, default_schema: str = "public") -> str:
    """Qualify a table as ``database.schema.table`` (lower-cased unless it was quoted)."""
    parts = [p.strip('"') if p.startswith('"') else p.lower() for p in table.split(".")]
    if len(parts) == 1:
        parts = [database, default_schema, *parts]
    elif len(parts) == 2:
        parts = [database, *parts]
    return ".".join(parts)


def _restore_authority(uri: str) -> str:
    """``sqlite:/abs/db/t`` -> ``sqlite:///abs/db/t``.

    Airflow normalises Asset URIs with ``urlunsplit``, which drops the empty authority of schemes
    outside ``urllib.parse.uses_netloc`` (``Asset("sqlite:///abs/db/t").uri == "sqlite:/abs/db/t"``).
    """
    scheme, sep, rest = uri.partition(":")
    if sep and scheme.isidentifier() and rest.startswith("/") and not rest.startswith("//"):
        return f"{scheme}://{rest}"
    return uri


def dataset_from_uri(uri: str) -> tuple[str, str]:
    """Map an Airflow Asset URI (or any dataset URI) to an OpenLineage (namespace, name)."""
    uri = _restore_authority(uri)
    parsed = urlsplit(uri)
    scheme = parsed.scheme.lower()
    if not scheme or "://" not in uri:
        return "asset", uri
    path = unquote(parsed.path)
    if scheme == "file":
        authority = parsed.netloc
        return ("file" if authority in ("", "localhost") else f"file://{authority}"), path
    if scheme == "sqlite":
        database, _, table = path.rpartition("/")
        return sqlite_namespace(database or "/"), sqlite_table_name(table)
    if scheme in ("postgres", "postgresql"):
        segments = [s for s in path.split("/") if s]
        namespace = postgres_namespace(parsed.hostname, parsed.port)
        return namespace, ".".join(segments)
    name = path.lstrip("/")
    if parsed.query:
        name += "?" + parsed.query
    return f"{scheme}://{parsed.netloc}", name or "/"

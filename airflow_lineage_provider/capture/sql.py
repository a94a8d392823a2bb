"""SQL run by hooks (hook lineage ``sql_job`` extras) parsed into tables, column lineage and a job facet.

The dataset identity comes from the hook's connection: SQLite ``sqlite://<db path>`` + table,
PostgreSQL ``postgres://host:port`` + ``database.schema.table``, other databases what the hook's
``get_openlineage_database_info`` says, else ``<conn_type>://<host>:<port>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_lineage_provider.capture import facets
from airflow_lineage_provider.capture.boundary import never_raise
from airflow_lineage_provider.capture.lineage import DatasetEntry, Lineage
from airflow_lineage_provider.core import naming

# SQLAlchemy dialect names openlineage-sql spells differently (it parses unknown names as generic).
_DIALECTS = {"postgresql": "postgres"}


@dataclass(frozen=True)
class Database:
    """Where a hook's tables live: the dataset namespace, the parser dialect, how to name a table."""

    namespace: str
    dialect: str
    qualify: Callable[[Any], str]


def _connection(hook: Any) -> Any:
    if hasattr(type(hook), "connection"):  # DbApiHook caches the connection it already fetched
        return hook.connection
    conn_id = hook.get_conn_id() if hasattr(hook, "get_conn_id") else getattr(hook, hook.conn_name_attr)
    return hook.get_connection(conn_id)


def _parts(table: Any) -> list[str]:
    """database, schema, name of a parsed table, quoted where the SQL quoted them."""
    quotes = getattr(table, "quote_style", None)
    parts = []
    for attribute in ("database", "schema", "name"):
        value = getattr(table, attribute, None)
        if value:
            quoted = quotes is not None and getattr(quotes, attribute, None)
            parts.append(f'"{value}"' if quoted else value)
    return parts


def _sqlite_path(conn: Any) -> str:
    path = str(conn.host or conn.schema or "")
    return path.removeprefix("file:").split("?", 1)[0]


def database_of(hook: Any, value: dict[str, Any]) -> Database:
    """The database a hook ran SQL against (``value`` is the ``sql_job`` extra)."""
    conn = _connection(hook)
    conn_type = (conn.conn_type or "").lower()
    default_db, default_schema = value.get("default_db"), value.get("default_schema")
    if conn_type == "sqlite":
        return Database(
            naming.sqlite_namespace(_sqlite_path(conn)),
            "sqlite",
            lambda table: naming.sqlite_table_name(".".join(_parts(table))),
        )
    if conn_type in ("postgres", "postgresql") and not conn.extra_dejson.get("redshift"):
        database = default_db or getattr(hook, "database", None) or conn.schema or "postgres"
        schema = default_schema or "public"
        return Database(
            naming.postgres_namespace(conn.host, conn.port),
            "postgres",
            lambda table: naming.postgres_table_name(".".join(_parts(table)), database, schema),
        )
    info = _openlineage_database_info(hook, conn)
    if info is not None:
        authority = getattr(info, "authority", None)
        namespace = f"{info.scheme}://{authority}" if authority else str(info.scheme)
        dialect = str(hook.get_openlineage_database_dialect(conn))
        default_db = default_db or getattr(info, "database", None)
    else:
        namespace = f"{conn_type}://{conn.host or ''}" + (f":{conn.port}" if conn.port else "")
        name = str(getattr(hook, "dialect_name", "generic"))
        dialect = _DIALECTS.get(name, name)

    def qualify(table: Any) -> str:
        database = getattr(table, "database", None) or default_db
        schema = getattr(table, "schema", None) or default_schema
        return ".".join(part for part in (database, schema, table.name) if part)

    return Database(namespace, dialect, qualify)


def _openlineage_database_info(hook: Any, conn: Any) -> Any:
    method = getattr(hook, "get_openlineage_database_info", None)
    if method is None:
        return None
    try:
        return method(conn)
    except ImportError:  # most hooks import the OpenLineage provider to build DatabaseInfo
        return None


def add_sql_lineage(lineage: Lineage, extras: list[tuple[dict[str, Any], Any]]) -> None:
    """Parse each ``(sql_job value, hook)`` and add its tables, column lineage and SQL to ``lineage``."""
    statements: dict[str, None] = {}
    dialects: list[str] = []
    columns: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    rows: dict[tuple[str, str], int] = {}
    touched: dict[tuple[str, str], Any] = {}  # tables of databases other than SQLite, by connection
    for number, (value, hook) in enumerate(extras):
        sql = value.get("sql")
        if not isinstance(sql, str) or not sql.strip():
            continue
        statements[sql] = None
        lineage.attempted += 1
        with never_raise("SQL lineage", on_error=lineage.failed(sql, number)):
            database = database_of(hook, value)
            dialects.append(database.dialect)
            found = _add_statement(lineage, database, sql, number, value.get("row_count"), columns, rows)
            if database.dialect != "sqlite":  # SQLite files are read directly (capture.schemas); the
                # information_schema reader is imported only by a task whose hooks ran SQL elsewhere
                _touch(touched, hook, database, found)
    for key, fields in columns.items():
        lineage.outputs[key].facets.setdefault("columnLineage", facets.column_lineage(fields))
    for key, count in rows.items():
        lineage.outputs[key].io_facets.setdefault("outputStatistics", facets.output_statistics(count))
    if touched:
        from airflow_lineage_provider.capture import dbschemas

        with never_raise("table schemas", on_error=lineage.failed("table schemas")):
            dbschemas.add_schemas(lineage, touched)
    if statements:
        query = ";\n".join(statements)
        dialect = dialects[0] if dialects else None
        lineage.add_job_facets({"sql": facets.sql(query, dialect)})


def _add_statement(
    lineage: Lineage,
    database: Database,
    sql: str,
    number: int,
    row_count: Any,
    columns: dict[tuple[str, str], dict[str, dict[str, Any]]],
    rows: dict[tuple[str, str], int],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Add one statement's tables and column lineage; return the (inputs, outputs) it named."""
    import openlineage_sql  # a compiled parser: imported by the first task that ran SQL, not by every task

    result = openlineage_sql.parse([sql], dialect=database.dialect)
    lineage.errors.extend(
        facets.error(error.message, error.origin_statement, number) for error in result.errors
    )
    namespace = database.namespace
    inputs = [(namespace, database.qualify(t)) for t in result.in_tables]
    lineage.add_inputs(DatasetEntry(*key) for key in inputs)
    outputs = [(namespace, database.qualify(t)) for t in result.out_tables]
    lineage.add_outputs(DatasetEntry(*key) for key in outputs)
    if isinstance(row_count, int) and len(outputs) == 1:
        rows[outputs[0]] = rows.get(outputs[0], 0) + row_count
    for column in result.column_lineage:
        origin = column.descendant.origin
        if origin is not None:
            target = (namespace, database.qualify(origin))
        elif len(outputs) == 1:  # INSERT ... SELECT names no table on its columns
            target = outputs[0]
        else:
            continue
        if target not in lineage.outputs:
            continue
        sources = [
            {
                "namespace": namespace,
                "name": database.qualify(source.origin),
                "field": source.name,
                # openlineage-sql tells which input columns a column is computed from, not how.
                "transformations": [{"type": "DIRECT"}],
            }
            for source in column.lineage
            if source.origin is not None
        ]
        if sources:
            fields = columns.setdefault(target, {})
            known = fields.get(column.descendant.name)
            fields[column.descendant.name] = {
                "inputFields": [*(known["inputFields"] if known else []), *sources]
            }
    return inputs, outputs


def _touch(touched: dict[tuple[str, str], Any], hook: Any, database: Database, found: Any) -> None:
    """Note the tables one statement named under the hook's connection (for their schema facets)."""
    from airflow_lineage_provider.capture import dbschemas

    key = dbschemas.connection_key(hook, database.namespace)
    tables = touched.get(key) or touched.setdefault(key, dbschemas.Touched(hook, database.dialect))
    inputs, outputs = found
    tables.read.update(inputs)
    tables.written.update(outputs)

"""Row counts of PostgreSQL tables for ``verify --artifacts --conn-id ID``, through an Airflow connection.

The connection gives host, port and credentials; the database is the one the dataset name holds
(``database.schema.table``), so one connection serves every database of its server. A table of
another server is not checkable with it; a table that is not there is missing. Each count gives up
after :data:`STATEMENT_TIMEOUT_MS`.
"""

from __future__ import annotations

from typing import Any

from airflow_lineage_provider.core.fingerprints import Counter, MissingError, NotCheckableError
from airflow_lineage_provider.core.naming import POSTGRES_DEFAULT_PORT
from airflow_lineage_provider.exceptions import InvalidQueryError

STATEMENT_TIMEOUT_MS = 30_000


def _connection(conn_id: str) -> Any:
    from airflow.exceptions import AirflowNotFoundException  # type: ignore[attr-defined]  # re-exported on 3.2+
    from airflow.models.connection import Connection  # the command line only, when asked

    try:
        return Connection.get_connection_from_secrets(conn_id)
    except AirflowNotFoundException as exc:
        raise InvalidQueryError(f"--conn-id {conn_id}: no such Airflow connection") from exc


def _parts(name: str) -> list[str]:
    return [p[1:-1] if p[:1] == p[-1:] == '"' and len(p) > 1 else p for p in name.split(".")]


def postgres_counter(conn_id: str) -> Counter:
    """Count a PostgreSQL table's rows through the Airflow connection ``conn_id``."""
    try:
        import psycopg2
        from psycopg2 import sql
    except ImportError as exc:  # the [postgres] extra
        raise InvalidQueryError(
            "psycopg2 is not installed (pip install airflow-lineage-provider[postgres])"
        ) from exc
    found = _connection(conn_id)
    server = f"{found.host}:{found.port or POSTGRES_DEFAULT_PORT}"

    def count(namespace: str, name: str) -> int:
        if namespace.split("://", 1)[1] != server:
            raise NotCheckableError(f"connection {conn_id} is to {server}, not to {namespace}")
        parts = _parts(name)
        if len(parts) != 3:
            raise NotCheckableError(f"{name} is not database.schema.table")
        database, schema, table = parts
        try:
            conn = psycopg2.connect(
                host=found.host,
                port=found.port or POSTGRES_DEFAULT_PORT,
                user=found.login,
                password=found.password,
                dbname=database,
                connect_timeout=10,
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            )
        except psycopg2.Error as exc:
            raise NotCheckableError(
                f"cannot connect through {conn_id}: {' '.join(str(exc).split())}"
            ) from exc
        try:
            with conn.cursor() as cursor:
                query = sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
                cursor.execute(query)
                (rows,) = cursor.fetchone()
        except psycopg2.errors.UndefinedTable as exc:
            raise MissingError(f"no table {schema}.{table} in database {database}") from exc
        except psycopg2.Error as exc:
            raise NotCheckableError(
                f"cannot count it through {conn_id}: {' '.join(str(exc).split())}"
            ) from exc
        finally:
            conn.close()
        return int(rows)

    return count

"""Schema management: Alembic migrations with their own version table, applied on first use.

``ensure_schema`` is cheap when the store is current (one SELECT); otherwise it takes a lock
(a file lock beside a SQLite database, an advisory lock on PostgreSQL) and upgrades to head.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from airflow_lineage_provider.exceptions import SchemaVersionError
from airflow_lineage_provider.store.engine import sqlite_path

VERSION_TABLE = "lineage_alembic_version"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions; a test checks it matches Alembic's head.
HEAD_REVISION = "0005"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005")
_ADVISORY_LOCK_ID = 7_274_010_001


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    path = sqlite_path(str(engine.url))
    if path is None:
        yield
        return
    with open(path + ".migrate.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alembic_config(conn: Connection) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Upgrade the store to ``revision`` (default head) and return the revision it is at.

    A store taken from a revision before 0004 to head is then refilled in the same transaction
    (:mod:`.refill`): its stored events' declared lineage, assertions and tags, as ingest derives them."""
    from alembic import command

    from airflow_lineage_provider.store import refill

    with _migration_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
        before = current_revision(conn)
        _check_known(before)
        command.upgrade(_alembic_config(conn), revision)  # type: ignore[arg-type]
        after = current_revision(conn) or ""
        if before is not None and before < refill.REVISION and after == HEAD_REVISION:
            refill.log(refill.refill(conn, datetime.now(timezone.utc).replace(tzinfo=None)))
        return after


def _check_known(revision: str | None) -> None:
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise SchemaVersionError(
            f"the lineage store is at schema revision {revision}, which this version of "
            "airflow-lineage-provider does not know; upgrade the package"
        )


def ensure_schema(engine: Engine) -> None:
    """Make sure the store is at the head revision, upgrading it if needed."""
    with engine.connect() as conn:
        revision = current_revision(conn)
    if revision == HEAD_REVISION:
        return
    _check_known(revision)
    upgrade(engine)

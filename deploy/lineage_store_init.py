"""airflow-init's lineage step: create the lineage store's PostgreSQL database when it is missing,
then migrate its tables (``airflow-lineage db upgrade``). Safe to run on every start.

The store URL is Airflow's ``[lineage_provider] store_url`` (``AIRFLOW__LINEAGE_PROVIDER__STORE_URL``).
To create the database it connects to the server's ``postgres`` database with the same user, so that
user needs CREATEDB (the compose file's superuser has it). A store that already exists — an external
server where a DBA created it — is only migrated.
"""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def create_database_if_missing(store_url: str) -> bool:
    """Create the PostgreSQL database of ``store_url`` unless it exists; True when it was created."""
    url = make_url(store_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        return False
    admin = create_engine(url.set(database="postgres", query={}), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            )
            if found:
                return False
            quoted = conn.dialect.identifier_preparer.quote(url.database)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def main() -> int:
    store_url = os.environ.get("AIRFLOW__LINEAGE_PROVIDER__STORE_URL", "")
    if not store_url:
        print("AIRFLOW__LINEAGE_PROVIDER__STORE_URL is not set", file=sys.stderr)
        return 1
    if create_database_if_missing(store_url):
        print(f"created the lineage database {make_url(store_url).database}", flush=True)
    return subprocess.call(["airflow-lineage", "db", "upgrade"])


if __name__ == "__main__":
    sys.exit(main())

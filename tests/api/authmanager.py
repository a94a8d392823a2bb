"""A test seam: SimpleAuthManager, but some viewers may read only some DAGs.

SimpleAuthManager grants by role only (every viewer reads every DAG; per-DAG limits need multi-team
mode), so DAG-level isolation is tested with this subclass, configured as ``[core] auth_manager``.
Only ``is_authorized_dag`` changes: Airflow's own ``get_authorized_dag_ids`` (DagModel rows of the
metadata DB, filtered through ``is_authorized_dag``) and JWT handling are the real ones.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

# user -> the DAG ids they may read (and nothing else: no "every DAG" permission, no writes)
DAG_READERS: dict[str, set[str]] = {"viewer_a": {"dag_a"}, "viewer_b": {"dag_b"}}


class DagScopedAuthManager(SimpleAuthManager):
    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        readable = DAG_READERS.get(user.get_name())
        if readable is None:
            return bool(
                super().is_authorized_dag(
                    method=method, user=user, access_entity=access_entity, details=details
                )
            )
        return method == "GET" and details is not None and details.id in readable

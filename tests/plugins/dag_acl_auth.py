"""A test auth manager with DAG-level read permissions (Airflow's SimpleAuthManager has roles only).

``AIRFLOW__DASHSCOPE_TESTS__DAG_ACL`` holds ``{"user": ["dag_id", ...]}``: a listed user may
read only those DAGs (and, like a FAB user with per-DAG permissions, passes the check that
names no DAG only if it may read some DAG); users not listed keep SimpleAuthManager's roles.
Used by the endpoint tests in-process and by the browser test's ``airflow standalone``.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
from airflow.configuration import conf


def dag_acl() -> dict[str, list[str]]:
    return dict(json.loads(conf.get("dashscope_tests", "dag_acl", fallback="{}") or "{}"))


class DagAclAuthManager(SimpleAuthManager):
    def is_authorized_dag(
        self,
        *,
        method: Any,
        user: Any,
        access_entity: Any = None,
        details: Any = None,
    ) -> bool:
        allowed = dag_acl().get(user.username)
        if allowed is not None:
            dag_id = getattr(details, "id", None)
            if dag_id is None and not allowed:
                return False
            if dag_id is not None and dag_id not in allowed:
                return False
        return bool(
            super().is_authorized_dag(
                method=method, user=user, access_entity=access_entity, details=details
            )
        )

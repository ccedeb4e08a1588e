"""Authentication and DAG-level authorization for the plugin's endpoints.

Airflow does not protect a plugin's FastAPI app, so every route here depends on what the core
API itself uses: :func:`get_user` (the JWT from the ``Authorization`` header or the UI's
cookie; 401 without one) and :func:`requires_access_dag` (403 unless the auth manager lets the
user read the DAG's task instances). Lists are cut to
``auth_manager.get_authorized_dag_ids``, so a DAG the user may not read contributes nothing.
"""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import get_user, requires_access_dag
from fastapi import Depends

#: The user (401 when not logged in).
AuthenticatedUser = Annotated[BaseUser, Depends(get_user)]

#: The route's ``dag_id`` (path or query) must be readable down to its task instances (403).
can_read_task_instances = Depends(requires_access_dag("GET", DagAccessEntity.TASK_INSTANCE))


def readable_dag_ids(user: AuthenticatedUser) -> set[str]:
    """The DAG ids whose task instances the user may read."""
    return set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))


ReadableDagIds = Annotated[set[str], Depends(readable_dag_ids)]

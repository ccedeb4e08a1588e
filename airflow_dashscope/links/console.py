"""Extra links from a task to the Alibaba Cloud Model Studio (Bailian) console.

Each link opens the console of the task's region, in its workspace, on the page of the
resource the task made: the fine-tune job (XCom ``job_id``), the exported model (XCom
``model_name``) or the deployment (XCom ``deployed_model``). The operators push these ids
as soon as the resource exists; with no id the link is empty and Airflow hides it.

Where the URLs come from (the console is a single-page app whose routes are no public API):

* Documented in the vendor's pages: the Beijing console
  ``https://bailian.console.aliyun.com/cn-beijing/?tab=model#/efm/...``, its pages
  ``efm/model_manager`` (fine-tuning jobs), ``efm/model_center`` (my models) and
  ``efm/model_deploy`` (deployments), and the international console's host
  ``https://modelstudio.console.alibabacloud.com/`` with the region as its first path
  segment.
* A best guess: the Singapore console uses the same ``?tab=model#/efm/...`` routes, and the
  pages read the id and the workspace from the route's query (``jobId``, ``model``,
  ``deployedModel``, ``workspaceId``). If the console ignores them, the link still lands on
  the right page of the right region's console. A console that moves changes only
  :data:`CONSOLES` and :data:`PAGES`.

The region and workspace come from the task's connection (its base URL or ``region`` extra,
and its ``workspace`` extra), read on the worker when the task ends; the API key is not
needed and never read.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode, urlsplit

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

log = logging.getLogger(__name__)

BEIJING = "cn-beijing"
SINGAPORE = "ap-southeast-1"
#: The console of each region the fine-tuning API serves.
CONSOLES = {
    BEIJING: "https://bailian.console.aliyun.com/cn-beijing/",
    SINGAPORE: "https://modelstudio.console.alibabacloud.com/ap-southeast-1/",
}
#: Console page of each kind of resource, and the query key that names the resource.
PAGES = {
    "fine_tune": ("efm/model_manager", "jobId"),
    "model": ("efm/model_center", "model"),
    "deployment": ("efm/model_deploy", "deployedModel"),
}


def region_of(base_url: str) -> str:
    """The console region of a base URL: the international endpoint is Singapore's; Beijing
    for anything else (the default endpoint, a proxy, the local emulator)."""
    from airflow_dashscope.client.config import INTERNATIONAL_BASE_URL

    international = urlsplit(INTERNATIONAL_BASE_URL).hostname
    return SINGAPORE if urlsplit(base_url).hostname == international else BEIJING


def console_url(kind: str, resource_id: str, *, region: str, workspace: str | None) -> str:
    """The console page of one resource, e.g. ``console_url("fine_tune", "ft-...", ...)``."""
    page, id_key = PAGES[kind]
    query = {id_key: resource_id}
    if workspace:
        query["workspaceId"] = workspace
    return f"{CONSOLES.get(region, CONSOLES[BEIJING])}?tab=model#/{page}?{urlencode(query)}"


def task_console(operator: Any) -> tuple[str, str | None]:
    """``(region, workspace)`` of the operator's connection; Beijing and no workspace when it
    cannot be read (the link must never fail the task)."""
    from airflow_dashscope.hooks.connection import endpoint_from

    conn_id = getattr(operator, "dashscope_conn_id", None)
    if not conn_id:
        return BEIJING, None
    try:
        from airflow.sdk import BaseHook

        base_url, workspace = endpoint_from(BaseHook.get_connection(conn_id))
    except Exception as error:  # the link is a convenience: never fail the task for it
        log.info("Console link: connection %r unreadable (%s); using Beijing.", conn_id, error)
        return BEIJING, None
    return region_of(base_url), workspace


def _xcom_value(ti_key: TaskInstanceKey, key: str) -> Any:
    from airflow.sdk.execution_time.xcom import XCom

    return XCom.get_value(ti_key=ti_key, key=key)


class _ConsoleLink(BaseOperatorLink):
    name = "DashScope console"
    #: ``PAGES`` key of the resource.
    kind: ClassVar[str]
    #: XCom key holding the resource's id.
    xcom_id_key: ClassVar[str]

    def resource_id(self, operator: Any, ti_key: TaskInstanceKey) -> Any:
        return _xcom_value(ti_key, self.xcom_id_key)

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        value = self.resource_id(operator, ti_key)
        if not value:
            return ""
        region, workspace = task_console(operator)
        return console_url(self.kind, str(value), region=region, workspace=workspace)


class DashScopeFineTuneJobLink(_ConsoleLink):
    """The fine-tune job (XCom ``job_id``) in the Model Studio console."""

    kind = "fine_tune"
    xcom_id_key = "job_id"


class DashScopeExportedModelLink(_ConsoleLink):
    """The exported model (XCom ``model_name``, else the task's ``model_name``) in the
    console's model list."""

    kind = "model"
    xcom_id_key = "model_name"

    def resource_id(self, operator: Any, ti_key: TaskInstanceKey) -> Any:
        return super().resource_id(operator, ti_key) or getattr(operator, "model_name", None)


class DashScopeDeploymentLink(_ConsoleLink):
    """The deployment (XCom ``deployed_model``) in the Model Studio console."""

    kind = "deployment"
    xcom_id_key = "deployed_model"

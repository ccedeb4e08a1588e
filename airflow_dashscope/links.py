"""Extra links from a task to the Alibaba Cloud Model Studio (Bailian) console.

The console is a single-page app whose routes are not a public API, so the URLs are the best
plausible ones: the Model Studio console's fine-tuning and deployment pages (Beijing, where the
fine-tuning API lives), with the id in the route's query so the page can find it. If the
console moves, only :data:`CONSOLE_URL` and the two templates change.

The ids come from the task instance's XCom (keys ``job_id`` and ``deployed_model``), which
the operators push as soon as the remote resource exists; with no XCom the link is empty
(Airflow hides it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

CONSOLE_URL = "https://bailian.console.aliyun.com/"
FINE_TUNE_JOB_URL = CONSOLE_URL + "?tab=model#/efm/model_train?jobId={id}"
DEPLOYMENT_URL = CONSOLE_URL + "?tab=model#/efm/model_deploy?deployedModel={id}"


def _xcom_value(ti_key: TaskInstanceKey, key: str) -> Any:
    from airflow.sdk.execution_time.xcom import XCom

    return XCom.get_value(ti_key=ti_key, key=key)


class _ConsoleLink(BaseOperatorLink):
    name = "DashScope console"
    xcom_id_key: ClassVar[str]
    url_template: ClassVar[str]

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        value = _xcom_value(ti_key, self.xcom_id_key)
        if not value:
            return ""
        return self.url_template.format(id=quote(str(value), safe=""))


class DashScopeFineTuneJobLink(_ConsoleLink):
    """The fine-tune job (XCom ``job_id``) in the Model Studio console."""

    xcom_id_key = "job_id"
    url_template = FINE_TUNE_JOB_URL


class DashScopeDeploymentLink(_ConsoleLink):
    """The deployment (XCom ``deployed_model``) in the Model Studio console."""

    xcom_id_key = "deployed_model"
    url_template = DEPLOYMENT_URL

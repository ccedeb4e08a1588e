"""Console links: computed by a real task run (Airflow stores them as XCom at the end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.configuration import conf

from airflow_dashscope.links.console import (
    CONSOLES,
    DashScopeDeploymentLink,
    DashScopeExportedModelLink,
    DashScopeFineTuneJobLink,
    console_url,
    region_of,
)

try:  # tests as a package, or as a rootdir-relative directory
    from tests.test_assets import load_dag_file
except ImportError:  # pragma: no cover
    from test_assets import load_dag_file  # type: ignore[no-redef]

JOB_ID = "ft-202511272033-8ae7"

DAG_FILE = f"""
from airflow.sdk import DAG, BaseOperator
from airflow_dashscope.links.console import DashScopeDeploymentLink, DashScopeFineTuneJobLink


class LinkedOperator(BaseOperator):
    operator_extra_links = (DashScopeFineTuneJobLink(), DashScopeDeploymentLink())

    def __init__(self, dashscope_conn_id, **kwargs):
        super().__init__(**kwargs)
        self.dashscope_conn_id = dashscope_conn_id

    def execute(self, context):
        context["ti"].xcom_push(key="job_id", value="{JOB_ID}")


with DAG("dashscope_links", schedule=None) as dag:
    LinkedOperator(task_id="linked", dashscope_conn_id="ds_links")
"""


def stored_links(dag_id: str) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id)).all()
        return {row.key: row.value for row in rows if row.key.startswith("_link_")}


def test_names_and_console_urls() -> None:
    assert DashScopeFineTuneJobLink().name == DashScopeDeploymentLink().name == "DashScope console"
    assert DashScopeExportedModelLink().name == "DashScope console"
    beijing = console_url("fine_tune", JOB_ID, region="cn-beijing", workspace=None)
    assert beijing == (
        "https://bailian.console.aliyun.com/cn-beijing/?tab=model#/efm/model_manager"
        f"?jobId={JOB_ID}"
    )
    singapore = console_url("deployment", "m-1", region="ap-southeast-1", workspace="llm-w")
    assert singapore == (
        "https://modelstudio.console.alibabacloud.com/ap-southeast-1/?tab=model"
        "#/efm/model_deploy?deployedModel=m-1&workspaceId=llm-w"
    )
    assert "efm/model_center?model=my%2Fmodel" in console_url(
        "model", "my/model", region="cn-beijing", workspace=None
    )


@pytest.mark.parametrize(
    ("base_url", "region"),
    [
        ("https://dashscope.aliyuncs.com/api/v1", "cn-beijing"),
        ("https://dashscope-intl.aliyuncs.com/api/v1", "ap-southeast-1"),
        ("http://127.0.0.1:8080/api/v1", "cn-beijing"),
    ],
)
def test_region_of_a_base_url(base_url: str, region: str) -> None:
    assert region_of(base_url) == region


def test_links_from_a_task_run(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The link follows the task's connection: Singapore region, its workspace."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_DS_LINKS",
        '{"conn_type": "dashscope", "extra": {"region": "ap-southeast-1", "workspace": "llm-s"}}',
    )
    dag = load_dag_file(Path(conf.get("core", "dags_folder")), "dashscope_links", DAG_FILE)
    assert dag.test().state == "success"
    links = stored_links("dashscope_links")
    assert links["_link_DashScopeFineTuneJobLink"] == console_url(
        "fine_tune", JOB_ID, region="ap-southeast-1", workspace="llm-s"
    )
    assert links["_link_DashScopeFineTuneJobLink"].startswith(CONSOLES["ap-southeast-1"])
    # No deployed_model XCom: an empty link, which Airflow hides.
    assert links["_link_DashScopeDeploymentLink"] == ""

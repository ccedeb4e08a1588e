"""Console links: computed by a real task run (Airflow stores them as XCom at the end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.configuration import conf

from airflow_dashscope.links import (
    DEPLOYMENT_URL,
    FINE_TUNE_JOB_URL,
    DashScopeDeploymentLink,
    DashScopeFineTuneJobLink,
)

try:  # tests as a package, or as a rootdir-relative directory
    from tests.test_assets import load_dag_file
except ImportError:  # pragma: no cover
    from test_assets import load_dag_file  # type: ignore[no-redef]

JOB_ID = "ft-202511272033-8ae7"

DAG_FILE = f"""
from airflow.sdk import DAG, BaseOperator
from airflow_dashscope.links import DashScopeDeploymentLink, DashScopeFineTuneJobLink


class LinkedOperator(BaseOperator):
    operator_extra_links = (DashScopeFineTuneJobLink(), DashScopeDeploymentLink())

    def execute(self, context):
        context["ti"].xcom_push(key="job_id", value="{JOB_ID}")


with DAG("dashscope_links", schedule=None) as dag:
    LinkedOperator(task_id="linked")
"""


def stored_links(dag_id: str) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(XComModel).where(XComModel.dag_id == dag_id)).all()
        return {row.key: row.value for row in rows if row.key.startswith("_link_")}


def test_names_and_url_templates() -> None:
    assert DashScopeFineTuneJobLink().name == DashScopeDeploymentLink().name == "DashScope console"
    assert FINE_TUNE_JOB_URL.startswith("https://bailian.console.aliyun.com/")
    assert "{id}" in FINE_TUNE_JOB_URL and "{id}" in DEPLOYMENT_URL


def test_links_from_a_task_run(airflow_db: Path) -> None:
    dag = load_dag_file(Path(conf.get("core", "dags_folder")), "dashscope_links", DAG_FILE)
    assert dag.test().state == "success"
    links = stored_links("dashscope_links")
    assert links["_link_DashScopeFineTuneJobLink"] == FINE_TUNE_JOB_URL.format(id=JOB_ID)
    # No deployed_model XCom: an empty link, which Airflow hides.
    assert links["_link_DashScopeDeploymentLink"] == ""

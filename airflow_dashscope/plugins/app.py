"""The plugin's FastAPI app, mounted by the API server under ``/dashscope``.

Pages (HTML, drawn in Airflow's UI inside an iframe) and their JSON:

* ``task/{dag_id}/{task_id}/{map_index}/{run_id}``: the fine-tune tab of one task instance;
  ``api/task/...`` its data. The run id comes last (a path) because run ids may hold ``/``,
  and Airflow 3.1 puts them in the URL unencoded.
* ``jobs``: the DashScope page, the account's: quota gauges, every job, deployment and file
  the service lists with the task that made it, what bills now, cost per DAG; ``api/jobs``
  its data, rows filterable by ``dag_id`` and ``status``.
* ``static/{name}``: the pages' script and style, shipped in the package (no CDN).

Every route requires a logged-in user, and every DAG-scoped one read access to the DAG (see
:mod:`airflow_dashscope.plugins.security`). Answers from DashScope are cached briefly by
:class:`~airflow_dashscope.plugins.remote.RemoteReader`; the API key never leaves the hook.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from airflow.api_fastapi.common.db.common import SessionDep
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from airflow_dashscope.checks.prices import PRICES_OPTION, configured_prices
from airflow_dashscope.checks.quotas import AccountLimits
from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.client.models import Checkpoint, Deployment
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.hooks.defaults import setting
from airflow_dashscope.plugins import records, sweep, views
from airflow_dashscope.plugins.account import Listing, Viewer, account_view, accounts
from airflow_dashscope.plugins.evaluation import evaluation_view
from airflow_dashscope.plugins.ownership import OwnerIndex
from airflow_dashscope.plugins.remote import RemoteReader
from airflow_dashscope.plugins.removals import find_removers
from airflow_dashscope.plugins.security import (
    AuthenticatedUser,
    ReadableDagIds,
    can_read_task_instances,
)
from airflow_dashscope.plugins.timezone import configured_timezone
from airflow_dashscope.waiting.training_log import summarize

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
LIST_LIMIT = 100
#: The tab's template for each kind of task it draws.
TAB_TEMPLATES = {
    "fine_tune": "task.html",
    "evaluation": "evaluation.html",
    "sweep": "sweep.html",
}


def _tail(request: Request) -> str:
    """The page's path below the app's root, raw (still encoded) as the browser sent it."""
    raw = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    root = request.scope.get("root_path", "")
    return raw[len(root) :] if root and raw.startswith(root) else request.url.path


def _up(request: Request) -> str:
    """``../`` from the page back to the app's root, counted on the raw path as the browser
    does, so relative links work under any base URL or proxy prefix."""
    return "../" * max(0, _tail(request).count("/") - 1)


def _map_index(text: str) -> int:
    """Airflow's UI leaves ``{MAP_INDEX}`` unfilled for a task that is not mapped."""
    try:
        return int(text)
    except ValueError:
        return -1


def _problem(error: Exception) -> str:
    """What went wrong remotely, for the page (the client's messages never hold the key)."""
    return f"{type(error).__name__}: {error}"


def _settings(problems: list[str]) -> tuple[AccountLimits, Any]:
    """The ``[dashscope]`` limits and prices; a bad option is named on the page, and the
    pages' figures (or no override) are used instead."""
    try:
        limits = AccountLimits.from_settings()
    except ValueError as error:
        problems.append(str(error))
        limits = AccountLimits()
    prices = setting(PRICES_OPTION)
    try:
        configured_prices(prices)
    except ValueError as error:
        problems.append(str(error))
        prices = None
    return limits, prices


class DashScopeViews:
    """The routes, around one :class:`RemoteReader` (tests give one with a shorter cache)."""

    def __init__(self, reader: RemoteReader) -> None:
        self.reader = reader
        self.templates = Environment(
            loader=PackageLoader("airflow_dashscope.plugins", "templates"),
            autoescape=select_autoescape(["html"]),
        )

    # --- data ------------------------------------------------------------------------------
    def task_data(
        self, session: Any, dag_id: str, run_id: str, task_id: str, map_index: int
    ) -> dict[str, Any]:
        record = records.find_task(session, dag_id, run_id, task_id, map_index)
        if record is None or record.kind not in TAB_TEMPLATES:
            raise HTTPException(404, "Not a DashScope fine-tune, evaluation or sweep task.")
        if record.kind == "evaluation":
            return evaluation_view(record, views.task_info(record))
        run_records = records.run_tasks(session, dag_id, run_id)
        if record.kind == "sweep":
            found = self.sweep_data(record, run_records)
            waiting = found is None and record.state not in views.ENDED_TASK
            return {
                "task": views.task_info(record),
                "sweep": found,
                "refresh_seconds": views.REFRESH_SECONDS if waiting else None,
            }
        view = self.fine_tune_data(session, record, run_records)
        if record.map_index >= 0:
            view["sweep"] = self.sweep_data(record, run_records)
        return view

    def fine_tune_data(
        self, session: Any, record: records.TaskRecord, run_records: list[records.TaskRecord]
    ) -> dict[str, Any]:
        job_id = record.remote_id
        if job_id is None:
            return {"task": views.task_info(record), "job": None, "refresh_seconds": 3}
        conn = record.conn_id
        try:
            job = self.reader.job(conn, job_id)
            summary = summarize(self.reader.logs(conn, job_id))
        except DashScopeError as error:
            return {"task": views.task_info(record), "job": None, "error": _problem(error)}
        problems: list[str] = []
        checkpoints: list[Checkpoint] = []
        deployments: dict[str, Deployment] = {}
        try:
            checkpoints = self.reader.checkpoints(conn, job_id)
        except DashScopeError as error:
            problems.append(_problem(error))
        try:
            deployments = self.reader.deployments(conn)
        except DashScopeError as error:
            problems.append(_problem(error))
        deploy_tasks = [r for r in run_records if r.kind == "deployment"]
        missing = views.missing_deployments(deploy_tasks, deployments) if not problems else set()
        view = views.job_view(
            record,
            job,
            summary,
            checkpoints,
            deployments,
            run_records,
            self.reader.console(conn),
            find_removers(session, record.dag_id, missing),
        )
        view["problems"] = problems
        return view

    def sweep_data(
        self, record: records.TaskRecord, run_records: list[records.TaskRecord]
    ) -> dict[str, Any] | None:
        """The sweep ``record`` belongs to, each member's curve read from its job's log."""
        found = sweep.sweep_of(record, run_records)
        if found is None:
            return None
        settings, members = found
        conn = record.conn_id
        job_ids = [str(m["job_id"]) for m in members if m.get("job_id")]
        curves = sweep.read_curves(job_ids, lambda job_id: self.reader.logs(conn, job_id))
        current = record.map_index if record.kind == "fine_tune" else None
        return sweep.sweep_view(settings, members, curves, current_map_index=current)

    def account_data(
        self, session: Any, readable: set[str], dag_id: str | None, status: str | None
    ) -> dict[str, Any]:
        """The account page's data: every remote resource, matched to Airflow's task instances,
        cut to what the user may read (:mod:`~airflow_dashscope.plugins.account`)."""
        tasks = records.every_task(session)
        known_dags = records.all_dag_ids(session)
        viewer = Viewer.of(readable, known_dags)
        problems: list[str] = []
        by_conn: dict[str, Listing] = {}
        for conn_id in sorted({t.conn_id for t in tasks} or {DashScopeHook.default_conn_name}):
            try:
                by_conn[conn_id] = self.listing(conn_id)
            except Exception as error:  # a connection missing or a service unreachable
                log.warning("DashScope page: cannot list %s", conn_id, exc_info=True)
                problems.append(f"{conn_id}: cannot list the account ({_problem(error)})")
        limits, prices = _settings(problems)
        view = account_view(
            accounts(by_conn), OwnerIndex(known_dags, tasks), viewer, limits=limits, prices=prices
        )
        rows, files = view.rows, view.files
        if dag_id:
            rows = [r for r in rows if r["dag_id"] == dag_id]
            files = [f for f in files if dag_id in f["dag_ids"]]
        statuses = sorted({row["status"] for row in rows if row["status"]})
        if status:
            rows = [row for row in rows if row["status"] == status.upper()]
        return {
            "accounts": view.accounts,
            "billing_now": view.billing_now(),
            "cost_by_dag": view.cost_by_dag(),
            "rows": rows,
            "files": files,
            "statuses": statuses,
            "dag_ids": sorted({r["dag_id"] for r in view.rows if r["dag_id"]}),
            "filters": {"dag_id": dag_id, "status": status},
            "sees_all": viewer.sees_all,
            "problems": problems,
        }

    def listing(self, conn_id: str) -> Listing:
        """One connection's jobs, files and deployments (each list cached by the reader)."""
        return Listing(
            [conn_id],
            jobs=list(self.reader.jobs(conn_id).values()),
            files=self.reader.files(conn_id),
            deployments=list(self.reader.deployments(conn_id).values()),
        )

    # --- pages -----------------------------------------------------------------------------
    def page(self, template: str, request: Request, **context: Any) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            up=_up(request), timezone=configured_timezone(), **context
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def create_app(reader: RemoteReader | None = None) -> FastAPI:
    """The app the plugin mounts (``reader``: a custom cache, for tests)."""
    app = FastAPI(title="DashScope fine-tuning", docs_url=None, redoc_url=None, openapi_url=None)
    ui = DashScopeViews(reader or RemoteReader())
    ti_route = "/{dag_id}/{task_id}/{map_index}/{run_id:path}"

    @app.get("/api/task" + ti_route, dependencies=[can_read_task_instances])
    def task_api(
        dag_id: str, task_id: str, map_index: str, run_id: str, session: SessionDep
    ) -> dict[str, Any]:
        return ui.task_data(session, dag_id, run_id, task_id, _map_index(map_index))

    @app.get(
        "/task" + ti_route, dependencies=[can_read_task_instances], response_class=HTMLResponse
    )
    def task_page(
        request: Request,
        dag_id: str,
        task_id: str,
        map_index: str,
        run_id: str,
        session: SessionDep,
    ) -> HTMLResponse:
        record = records.find_task(session, dag_id, run_id, task_id, _map_index(map_index))
        if record is None or record.kind not in TAB_TEMPLATES:
            return ui.page("not_fine_tune.html", request, dag_id=dag_id, task_id=task_id)
        # The data's URL is this page's, under api/, kept encoded as the browser sent it.
        template = TAB_TEMPLATES[record.kind]
        return ui.page(template, request, api="api" + _tail(request), record=record)

    @app.get("/api/jobs", dependencies=[can_read_task_instances])
    def jobs_api(
        dag_ids: ReadableDagIds,
        session: SessionDep,
        dag_id: str | None = None,
        status: str | None = None,
    ) -> dict[str, Any]:
        return ui.account_data(session, dag_ids, dag_id or None, status or None)

    @app.get("/jobs", dependencies=[can_read_task_instances], response_class=HTMLResponse)
    def jobs_page(
        request: Request,
        dag_ids: ReadableDagIds,
        session: SessionDep,
        dag_id: str | None = None,
        status: str | None = None,
    ) -> HTMLResponse:
        data = ui.account_data(session, dag_ids, dag_id or None, status or None)
        return ui.page("jobs.html", request, **data)

    @app.get("/static/{name}")
    def static(name: str, user: AuthenticatedUser) -> FileResponse:
        path = STATIC / name
        if path.suffix not in STATIC_TYPES or path.parent != STATIC or not path.is_file():
            raise HTTPException(404, "Not found")
        return FileResponse(path, media_type=STATIC_TYPES[path.suffix])

    return app

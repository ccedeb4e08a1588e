"""The Fine-tuning tab and the DashScope page in a real browser, on the example pipeline.

``airflow standalone`` runs the example DAG against the emulator (the launch of
``tests/e2e/test_standalone.py``, with a slower job so it can be watched); Debian's chromium,
driven by Playwright, opens the fine-tune task's tab in Airflow's UI while the job trains and
again when it is done, then the DashScope page (the account: gauges, rows, a job started
outside Airflow). Screenshots go to ``docs/screenshots/`` (the README and docs/ui.md embed
them).

Users come from ``tests/plugins/dag_acl_auth.py``: ``admin`` may read everything, ``mallory`` is a
viewer who may read none of the example's DAGs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator import run_emulator
from airflow_dashscope.emulator.runner import RunningEmulator
from tests.e2e.harness import EXAMPLES, START_TIMEOUT, free_port, standalone_env
from tests.e2e.harness import airflow_cli as _airflow
from tests.e2e.harness import wait_until as _wait_for

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.timeout(1200),
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no browser: {CHROMIUM} is missing (install it with .ci/install-browser.sh)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install '.[ui]')"
)

DAG_ID = "example_dashscope_finetune"
_free_port = free_port

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
REPO = Path(__file__).resolve().parents[2]
PASSWORDS = {"admin": "admin-pw-for-tests", "mallory": "mallory-pw-for-tests"}
# ~10 s per training step (the example logs 6 steps): time to watch it grow.
JOB_SECONDS = 60
TAB = "dashscope-fine-tuning"
WAIT_MS = 120_000


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(
        job_seconds=JOB_SECONDS, deploy_seconds=8, export_seconds=8, api_key=None
    ) as emu:
        yield emu


@pytest.fixture
def airflow_env(tmp_path: Path, emulator: RunningEmulator) -> dict[str, str]:
    dags = tmp_path / "dags"
    shutil.copytree(EXAMPLES, dags, ignore=shutil.ignore_patterns("run_demo.py", "__pycache__"))
    return standalone_env(tmp_path / "home", dags, emulator.base_url, free_port())


@contextlib.contextmanager
def _airflow_process(env: dict[str, str], log: Path, *args: str) -> Iterator[None]:
    """``airflow <args>`` as its own process group, stopped (group and all) at the end."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def standalone(airflow_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """``airflow standalone`` with two known users (it forces SimpleAuthManager's roles)."""
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    env = {
        **airflow_env,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), airflow_env.get("PYTHONPATH")])),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,mallory:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API_AUTH__JWT_SECRET": "browser-tests-" + "0123456789abcdef" * 4,
        "_LOG": str(tmp_path / "standalone.log"),
    }
    with _airflow_process(env, Path(env["_LOG"]), "standalone"):
        yield env


@pytest.fixture
def acl_api_server(standalone: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A second API server on the same metadata DB with DAG-level permissions
    (``tests/plugins/dag_acl_auth.py``): ``mallory`` may read none of the example's DAGs.
    ``airflow standalone`` always runs SimpleAuthManager, whose roles are coarse."""
    port = _free_port()
    env = {
        **standalone,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.plugins.dag_acl_auth.DagAclAuthManager",
        "AIRFLOW__DASHSCOPE_TESTS__DAG_ACL": json.dumps({"mallory": ["some_other_dag"]}),
    }
    # Started once standalone has migrated the metadata DB (its API server answers).
    base = standalone["AIRFLOW__API__BASE_URL"]
    _wait_for("the API server", lambda: _healthy(base), 3 * START_TIMEOUT, Path(standalone["_LOG"]))
    log = tmp_path / "acl-api-server.log"
    with _airflow_process(env, log, "api-server", "--port", str(port), "--host", "127.0.0.1"):
        yield f"http://127.0.0.1:{port}"


def _token(base: str, user: str) -> str:
    answer = httpx.post(
        f"{base}/auth/token", json={"username": user, "password": PASSWORDS[user]}, timeout=30
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _cookie(token: str, host: str) -> Any:
    """The cookie Airflow's UI keeps its JWT in."""
    return {"name": "_token", "value": token, "domain": host, "path": "/"}


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _latest_run(env: dict[str, str], field: str) -> str:
    """``run_id`` or ``state`` of the DAG's latest run ("" before there is one)."""
    listed = _airflow(env, "dags", "list-runs", DAG_ID, "-o", "json")
    # Airflow may print warnings before the JSON document on stdout.
    lines = [line for line in listed.stdout.splitlines() if line.startswith("[")]
    runs = json.loads(lines[-1]) if lines else []
    return str(runs[0][field]) if runs else ""


def _tab_data(base: str, token: str, run_id: str) -> dict[str, Any]:
    url = f"{base}/dashscope/api/task/{DAG_ID}/fine_tune/-1/{quote(run_id, safe='')}"
    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return dict(answer.json()) if answer.status_code == 200 else {}


def _step_lines(emu: RunningEmulator, job_id: str) -> list[str]:
    with DashScopeClient(api_key="sk-test", base_url=emu.base_url) as client:
        logs = client.get_fine_tune_logs(job_id, offset=1, line=1000).logs
    return [line for line in logs if re.search(r"\bstep \d+/\d+", line)]


def _console_job(emu: RunningEmulator) -> str:
    """A job started outside Airflow, on the pipeline's file, with a name of no DAG's."""
    with DashScopeClient(api_key="sk-test", base_url=emu.base_url) as client:
        file_id = client.list_files()[0].file_id
        hyper = {"n_epochs": 1, "batch_size": 8, "max_length": 1024}
        made = client.create_fine_tune(
            "qwen3-8b", [file_id], hyper_parameters=hyper, job_name="made-in-the-console"
        )
    return made.job_id


def _training(emu: RunningEmulator, job_id: str) -> bool:
    with DashScopeClient(api_key="sk-test", base_url=emu.base_url) as client:
        return client.get_fine_tune(job_id).status_name == "RUNNING"


def test_the_tab_draws_the_growing_curve_and_refuses_strangers(
    standalone: dict[str, str], acl_api_server: str, emulator: RunningEmulator
) -> None:
    env, log = standalone, Path(standalone["_LOG"])
    base = env["AIRFLOW__API__BASE_URL"]
    _wait_for(
        "the DAG to be parsed",
        lambda: DAG_ID in _airflow(env, "dags", "list", "-o", "plain").stdout,
        START_TIMEOUT,
        log,
    )
    assert _airflow(env, "dags", "unpause", DAG_ID).returncode == 0
    triggered = _airflow(env, "dags", "trigger", DAG_ID)
    assert triggered.returncode == 0, triggered.stderr
    _wait_for("the run", lambda: bool(_latest_run(env, "run_id")), 60, log)
    run_id = _latest_run(env, "run_id")
    admin = _token(base, "admin")
    seen: dict[str, Any] = {}

    def two_steps() -> bool:
        seen.update(_tab_data(base, admin, run_id))
        return len(seen.get("training", {}).get("points", [])) >= 2

    try:
        _wait_for("two training steps in the tab's data", two_steps, 300, log)
    except pytest.fail.Exception as failure:
        pytest.fail(f"{failure}\nthe tab's last data: {json.dumps(seen)[:3000]}")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab_url = f"{base}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}/tasks/fine_tune/plugin/{TAB}"
    host = base.split("//", 1)[1].split(":")[0]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1250})
            context.add_cookies([_cookie(admin, host)])
            page = context.new_page()
            page.goto(tab_url)
            frame = page.frame_locator("iframe").first
            view = frame.locator("#fine-tune")
            view.locator("circle.pt.train").first.wait_for(timeout=WAIT_MS)
            frame.locator("[data-testid=job-status]", has_text="RUNNING").wait_for(timeout=WAIT_MS)
            first = view.locator("circle.pt.train").count()
            page.screenshot(path=str(SCREENSHOTS / "fine-tuning-tab-running-1.png"), full_page=True)

            # The page refreshes itself: wait for more points while the job still runs.
            view.locator("circle.pt.train").nth(first).wait_for(timeout=WAIT_MS)
            second = view.locator("circle.pt.train").count()
            still = frame.locator("[data-testid=job-status]").inner_text()
            page.screenshot(path=str(SCREENSHOTS / "fine-tuning-tab-running-2.png"), full_page=True)
            assert first < second and still == "RUNNING", (first, second, still)

            finished = ("success", "failed")
            _wait_for("the run to end", lambda: _latest_run(env, "state") in finished, 600, log)
            assert _latest_run(env, "state") == "success", log.read_text(errors="replace")[-4000:]
            data = _tab_data(base, admin, run_id)
            job_id = data["job"]["job_id"]
            page.reload()
            frame = page.frame_locator("iframe").first
            view = frame.locator("#fine-tune")
            frame.locator("[data-testid=job-status]", has_text="SUCCEEDED").wait_for(
                timeout=WAIT_MS
            )
            # One point per logged step; the cost is the job's billed tokens.
            assert view.locator("circle.pt.train").count() == len(_step_lines(emulator, job_id))
            with DashScopeClient(api_key="sk-test", base_url=emulator.base_url) as client:
                usage = client.get_fine_tune(job_id).usage_tokens
            assert usage and frame.locator("[data-testid=billed-tokens]").inner_text() == (
                f"{usage:,}"
            )
            checkpoints = frame.locator("[data-testid=checkpoints]").inner_text()
            assert "exported by export_checkpoint" in checkpoints
            deployments = frame.locator("[data-testid=deployments]").inner_text()
            assert "deploy" in deployments and "console" in deployments
            page.screenshot(path=str(SCREENSHOTS / "fine-tuning-tab.png"), full_page=True)

            # A job started by hand (as in the console): on the account, from no DAG here.
            console_job = _console_job(emulator)
            _wait_for(
                "the console's job to train", lambda: _training(emulator, console_job), 120, log
            )
            page.goto(f"{base}/plugin/dashscope")
            account = page.frame_locator("iframe").first
            table = account.locator("[data-testid=jobs-table]")
            # The job's row (its deployment's id, named after the job's model, holds it too).
            table.locator("tr[data-kind=fine_tune]", has_text=job_id).wait_for(timeout=WAIT_MS)
            stranger_row = table.locator("tr[data-kind=fine_tune]", has_text=console_job)
            assert "not from this Airflow" in stranger_row.inner_text()
            gauges = account.locator("[data-testid=gauge]")
            assert gauges.count() == 3
            assert "2 of 20" in gauges.first.inner_text()  # the DAG's job and the console's
            assert "1 job training" in account.locator("[data-testid=billing-now]").inner_text()
            cost = account.locator("[data-testid=cost-by-dag]").inner_text()
            assert DAG_ID in cost and "¥" in cost
            # Airflow's look, not the browser's: its font stack and its small rounded controls.
            select = account.locator("[data-testid=filter-dag]")
            style = select.evaluate(
                "e => [getComputedStyle(e).fontFamily, getComputedStyle(e).borderRadius,"
                " getComputedStyle(e).appearance]"
            )
            assert style[0].startswith("Inter") and style[1] == "4px" and style[2] == "none"
            page.screenshot(path=str(SCREENSHOTS / "dashscope-page.png"), full_page=True)
            # Its links open the task in Airflow's UI around the frame.
            table.locator("a.airflow-link", has_text="fine_tune").click()
            page.wait_for_url(
                re.compile(r"/dags/example_dashscope_finetune/runs/.+/tasks/fine_tune$")
            )
            page.get_by_text("DashScopeFineTuneOperator").first.wait_for(timeout=WAIT_MS)

            # On a server with DAG-level permissions, a viewer who may not read the DAG gets
            # 403 on the tab and sees none of its jobs; admin (the control) gets the tab.
            acl_log = log.with_name("acl-api-server.log")
            _wait_for("the second API server", lambda: _healthy(acl_api_server), 600, acl_log)
            direct = f"/dashscope/task/{DAG_ID}/fine_tune/-1/{quote(run_id, safe='')}"
            stranger = browser.new_context()
            mallory = _token(acl_api_server, "mallory")
            stranger.add_cookies([_cookie(mallory, host)])
            other = stranger.new_page()
            response = other.goto(acl_api_server + direct)
            assert response is not None and response.status == 403
            assert job_id not in other.content()
            other.screenshot(path=str(SCREENSHOTS / "forbidden.png"))
            response = other.goto(f"{acl_api_server}/dashscope/jobs")
            assert response is not None and response.status == 200
            assert other.locator("[data-testid=no-jobs]").count() == 1
            assert job_id not in other.content() and console_job not in other.content()
            # The account's gauges are shown to every user; the rows only to their DAGs'.
            assert other.locator("[data-testid=gauge]").count() == 3
            other.screenshot(path=str(SCREENSHOTS / "dashscope-page-viewer.png"), full_page=True)
            control = context.new_page()
            response = control.goto(acl_api_server + direct)
            assert response is not None and response.status == 200
            control.locator("[data-testid=job-status]", has_text="SUCCEEDED").wait_for(
                timeout=WAIT_MS
            )
            # The connection's key (``sk-e2e``) reaches no page the browser got.
            shown = [f.content() for f in page.frames] + [json.dumps(data), other.content()]
            assert all("sk-e2e" not in text for text in shown)
        finally:
            browser.close()
    shots = ("fine-tuning-tab-running-1", "fine-tuning-tab-running-2", "fine-tuning-tab")
    for name in (*shots, "dashscope-page", "dashscope-page-viewer"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000

"""The evaluation and sweep tabs, and the fine-tune tab's fixes, in a real browser.

``airflow standalone`` runs :data:`tests.plugins.stand_ins.RESULTS_DAG` against the emulator
(a three-member sweep, its selection, a deploy torn down by the DAG, an evaluation that passed
its gate and one that failed it). The browser's zone is Asia/Shanghai (Airflow's is UTC): the
tab shows times as Airflow's UI does, in the browser's zone until the user picks another.
Screenshots ``evaluation.png``, ``sweep.png`` and ``fine-tuning-tab-sweep-member.png`` go to
``docs/screenshots/``. The launch and the browser are ``test_fine_tuning_view.py``'s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pendulum
import pytest

from airflow_dashscope.emulator import run_emulator
from airflow_dashscope.emulator.runner import RunningEmulator
from tests.browser.test_fine_tuning_view import (  # noqa: F401  (fixtures, by name)
    CHROMIUM,
    CHROMIUM_FLAGS,
    SCREENSHOTS,
    TAB,
    WAIT_MS,
    _cookie,
    _token,
    standalone,
    sync_api,
)
from tests.e2e.harness import START_TIMEOUT, free_port, standalone_env
from tests.e2e.harness import airflow_cli as _airflow
from tests.e2e.harness import wait_until as _wait_for
from tests.plugins.conftest import SFT_LINE
from tests.plugins.stand_ins import RESULTS_DAG

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.timeout(1200),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no browser: {CHROMIUM} is missing"),
]
DAG_ID = "ui_results"
ZONE = "Asia/Shanghai"
FAST = {"poll_interval": 0.5, "timeout": 600, "deferrable": False}
TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
FORMAT = "YYYY-MM-DD HH:mm:ss"


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(job_seconds=12, deploy_seconds=4, export_seconds=4, api_key=None) as emu:
        yield emu


@pytest.fixture
def airflow_env(tmp_path: Path, emulator: RunningEmulator) -> dict[str, str]:
    """Only the results DAG."""
    dags = tmp_path / "dags"
    dags.mkdir()
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join([SFT_LINE] * 40) + "\n")
    (dags / f"{DAG_ID}.py").write_text(
        f"DAG_ID = {DAG_ID!r}\nTRAINING_PATH = {str(data)!r}\nHELDOUT_PATH = {str(data)!r}\n"
        f"FAST = {FAST!r}\n{RESULTS_DAG}"
    )
    return standalone_env(tmp_path / "home", dags, emulator.base_url, free_port())


def _run(env: dict[str, str], field: str) -> str:
    listed = _airflow(env, "dags", "list-runs", DAG_ID, "-o", "json")
    lines = [line for line in listed.stdout.splitlines() if line.startswith("[")]
    runs = json.loads(lines[-1]) if lines else []
    return str(runs[0][field]) if runs else ""


def _data(base: str, token: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
    url = f"{base}/dashscope/api/task/{DAG_ID}/{task_id}/{map_index}/{quote(run_id, safe='')}"
    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return answer.json() if answer.status_code == 200 else {}


def test_the_evaluation_and_sweep_tabs(standalone: dict[str, str]) -> None:  # noqa: F811
    env, log = standalone, Path(standalone["_LOG"])
    base = env["AIRFLOW__API__BASE_URL"]
    _wait_for(
        "the DAG to be parsed",
        lambda: DAG_ID in _airflow(env, "dags", "list", "-o", "plain").stdout,
        START_TIMEOUT,
        log,
    )
    assert _airflow(env, "dags", "unpause", DAG_ID).returncode == 0
    assert _airflow(env, "dags", "trigger", DAG_ID).returncode == 0
    _wait_for("the run", lambda: bool(_run(env, "run_id")), 60, log)
    run_id = _run(env, "run_id")
    _wait_for("the run to end", lambda: _run(env, "state") in ("success", "failed"), 900, log)
    assert _run(env, "state") == "success", log.read_text(errors="replace")[-4000:]
    admin = _token(base, "admin")
    member = _data(base, admin, run_id, "fine_tune", 0)
    evaluated = _data(base, admin, run_id, "evaluate", -1)["evaluation"]
    run = f"{base}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}/tasks"
    host = base.split("//", 1)[1].split(":")[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            context = browser.new_context(
                viewport={"width": 1400, "height": 1250}, timezone_id=ZONE
            )
            context.add_cookies([_cookie(admin, host)])
            page = context.new_page()

            # The evaluation: intervals per metric and model, the gate, the worst examples.
            page.goto(f"{run}/evaluate/plugin/{TAB}")
            frame = page.frame_locator("iframe").first
            view = frame.locator("#evaluation")
            view.locator("[data-testid=scores] g.interval").first.wait_for(timeout=WAIT_MS)
            assert view.locator("[data-testid=scores] g.interval").count() == 4  # 2 x 2
            assert view.locator("[data-testid=scores] .whisker").count() == 12
            assert view.locator("[data-testid=gate-status]").inner_text() == "gate passed"
            # What the page shows is the evaluation's own figures (the chosen member learned
            # the held-out line, the base model did not: it wins every example).
            compared = evaluated["comparison"]
            win_rate = view.locator("[data-testid=win-rate]").inner_text()
            assert f"{compared['win_rate']:.0%}" in win_rate and compared["win_rate"] == 1.0
            low = round(compared["difference"]["low"] * 10000) / 10000
            assert f"[{low:g}, " in view.locator("[data-testid=difference]").inner_text()
            worst = view.locator("[data-testid=worst] tbody tr")
            assert worst.count() == len(evaluated["worst"]) >= 1
            assert evaluated["worst"][0]["reference"] in worst.first.inner_text()
            page.screenshot(path=str(SCREENSHOTS / "evaluation.png"), full_page=True)

            # The gate failed: the task was skipped, the result pushed before the gate is shown.
            page.goto(f"{run}/evaluate_strict/plugin/{TAB}")
            strict = page.frame_locator("iframe").first.locator("#evaluation")
            strict.locator("[data-testid=gate-status]", has_text="gate failed").wait_for(
                timeout=WAIT_MS
            )
            assert "skipped" in strict.locator("[data-testid=gate]").inner_text()

            # The sweep: three members overlaid, the chosen one marked, the retired one said.
            page.goto(f"{run}/select/plugin/{TAB}")
            sweep = page.frame_locator("iframe").first.locator("#sweep")
            sweep.locator("[data-testid=sweep-chart] path.member").first.wait_for(timeout=WAIT_MS)
            assert sweep.locator("[data-testid=sweep-chart] path.member").count() == 4  # 2 x 2
            legend = sweep.locator("[data-testid=sweep-legend]").inner_text()
            assert "#0" in legend and "chosen" in legend and "retired" in legend
            chosen = sweep.locator("[data-testid=sweep-members] tr.chosen")
            assert chosen.count() == 1 and "#0 (chosen)" in chosen.inner_text()
            page.screenshot(path=str(SCREENSHOTS / "sweep.png"), full_page=True)

            # A member's own tab: its job, the fixes, and the sweep below.
            page.goto(f"{run}/fine_tune/mapped/0/plugin/{TAB}")
            tab = page.frame_locator("iframe").first.locator("#fine-tune")
            tab.locator("[data-testid=job-status]", has_text="SUCCEEDED").wait_for(timeout=WAIT_MS)
            tab.locator("[data-testid=sweep] path.member").first.wait_for(timeout=WAIT_MS)
            assert tab.locator("[data-testid=loss-label]").inner_text() == "Final loss"
            assert "NOT EXPORTED" in tab.locator("[data-testid=checkpoints]").inner_text()
            assert "PENDING" not in tab.locator("[data-testid=checkpoints]").inner_text()
            assert "REMOVED by teardown" in tab.locator("[data-testid=deployments]").inner_text()
            estimate = tab.locator("[data-testid=estimated-tokens]").inner_text()
            assert estimate == f"{member['cost']['estimated_tokens']:,}"
            # Ticks are the server's nice ones; times are Airflow's zone, 24-hour.
            ticks = tab.locator("#chart text.tick.x").all_text_contents()
            assert ticks == [str(t) for t in member["training"]["axes"]["step"]]
            created = tab.locator("[data-testid=timeline] dd").first.inner_text()
            when = pendulum.parse(member["timeline"]["created"])
            assert isinstance(when, pendulum.DateTime)
            assert TIME.match(created) and created == when.in_tz(ZONE).format(FORMAT)
            page.screenshot(
                path=str(SCREENSHOTS / "fine-tuning-tab-sweep-member.png"), full_page=True
            )
            # A zone picked in Airflow's UI (kept in the browser's storage) wins.
            page.evaluate("localStorage.setItem('timezone', JSON.stringify('America/New_York'))")
            page.reload()
            tab = page.frame_locator("iframe").first.locator("#fine-tune")
            tab.locator("[data-testid=updated]", has_text="America/New_York").wait_for(
                timeout=WAIT_MS
            )
            created = tab.locator("[data-testid=timeline] dd").first.inner_text()
            assert created == when.in_tz("America/New_York").format(FORMAT)
            shown = [f.content() for f in page.frames]
            assert all("sk-e2e" not in text for text in shown)
        finally:
            browser.close()
    for name in ("evaluation", "sweep", "fine-tuning-tab-sweep-member"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000

"""Scenario 5: bursts of 429, 503, dropped connections and answers lost after the request took
effect, on every create route, while 20 runs are in flight: all succeed, nothing is doubled."""

from __future__ import annotations

import pytest

from .conftest import Production

pytestmark = [pytest.mark.production, pytest.mark.slow]

RUNS = 20
CREATE_ROUTES = {
    "upload": ("POST", r"^/api/v1/files$"),
    "fine-tune": ("POST", r"^/api/v1/fine-tunes$"),
    "export": ("GET", r"^/api/v1/fine-tunes/[^/]+/export/"),
    "deploy": ("POST", r"^/api/v1/deployments$"),
}
BURST = (
    {"kind": "error", "status": 429, "retry_after": 1, "count": 2},
    {"kind": "error", "status": 503, "count": 2},
    {"kind": "drop", "count": 1},
    {"kind": "drop_after", "count": 2},
)


def test_fault_bursts_on_every_create_route_double_nothing(production: Production) -> None:
    airflow, emulator = production.airflow, production.emulator
    scenario = production.scenario("5 fault bursts")
    for method, path in CREATE_ROUTES.values():
        for fault in BURST:
            emulator.inject(method=method, path=path, **fault)
    armed = sum(f["count"] for f in BURST) * len(CREATE_ROUTES)
    run_ids = airflow.trigger_runs("faults", RUNS)
    states = airflow.wait_runs(run_ids, timeout=900)
    left = emulator.armed_faults()
    figures = scenario.report(RUNS, faults_armed=armed, faults_left=len(left))

    assert not left, f"some faults never fired: {left}"
    assert figures["faults"] == armed
    assert states == dict.fromkeys(run_ids, "success")
    assert figures["jobs"] == RUNS
    assert figures["deployments"] == RUNS
    assert figures["files"] == RUNS
    assert figures["cancelled"] == 0
    assert {j["status"] for j in scenario.new_jobs().values()} == {"SUCCEEDED"}

"""Scenario 5: bursts of 429, 503, dropped connections and answers lost after the request took
effect, on every create route, while 20 runs are in flight: all succeed, nothing is doubled."""

from __future__ import annotations

import pytest

from .conftest import Production

pytestmark = [pytest.mark.production, pytest.mark.slow]

RUNS = 20
#: route (as the emulator counts it) -> (method, path pattern of the fault)
CREATE_ROUTES = {
    "POST /api/v1/files": ("POST", r"^/api/v1/files$"),
    "POST /api/v1/fine-tunes": ("POST", r"^/api/v1/fine-tunes$"),
    "GET /api/v1/fine-tunes/{job_id}/export/{checkpoint}": (
        "GET",
        r"^/api/v1/fine-tunes/[^/]+/export/",
    ),
    "POST /api/v1/deployments": ("POST", r"^/api/v1/deployments$"),
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
    per_route = sum(f["count"] for f in BURST)
    before = emulator.counters()["requests"]
    run_ids = airflow.trigger_runs("faults", RUNS)
    states = airflow.wait_runs(run_ids, timeout=900)
    after = emulator.counters()["requests"]
    calls = {route: after.get(route, 0) - before.get(route, 0) for route in CREATE_ROUTES}
    # A route the pipeline never called keeps its faults (the export is skipped when the
    # service already published the final checkpoint); every route it called had its burst.
    used = [route for route, n in calls.items() if n]
    left = emulator.armed_faults()
    figures = scenario.report(RUNS, faults_armed=per_route * len(CREATE_ROUTES), create_calls=calls)

    assert "POST /api/v1/fine-tunes" in used and "POST /api/v1/deployments" in used
    assert figures["faults"] == per_route * len(used)
    assert all(calls[route] == 0 for route in CREATE_ROUTES if route not in used)
    assert len(left) == len(BURST) * (len(CREATE_ROUTES) - len(used))
    assert states == dict.fromkeys(run_ids, "success")
    assert figures["jobs"] == RUNS
    assert figures["deployments"] == RUNS
    # No upload stored twice. Fewer than one per run is allowed: a lost upload is reconciled
    # with a stored file of the same name, size and MD5, which another run's identical
    # upload (every run sends the same sample file) also is.
    assert figures["files"] <= RUNS
    assert figures["cancelled"] == 0
    assert {j["status"] for j in scenario.new_jobs().values()} == {"SUCCEEDED"}

"""Scenario 1: fifty runs of the example pipeline at once, on two workers and two triggerers."""

from __future__ import annotations

import os

import pytest

from .conftest import Production

pytestmark = [pytest.mark.production, pytest.mark.slow]

RUNS = int(os.environ.get("PRODUCTION_LOAD_RUNS", "50"))


def test_fifty_runs_at_once_each_pay_for_one_job_and_one_deployment(
    production: Production,
) -> None:
    scenario = production.scenario("1 load")
    run_ids = production.airflow.trigger_runs("load", RUNS)
    states = production.airflow.wait_runs(run_ids, timeout=900)
    figures = scenario.report(RUNS)

    assert states == dict.fromkeys(run_ids, "success")
    # Every run made its own job and deployment (each run needs one): one each, none twice.
    assert figures["jobs"] == RUNS
    assert figures["deployments"] == RUNS
    jobs = scenario.new_jobs()
    assert len(jobs) == RUNS
    assert {j["status"] for j in jobs.values()} == {"SUCCEEDED"}
    assert figures["cancel_requests"] == 0

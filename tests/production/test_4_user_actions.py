"""Scenario 4: what a user does to a deferred fine-tune, through the REST API.

Kill means kill, clear means retry: marking it failed cancels the remote job; clearing it keeps
the job (the new try reattaches to it); marking it success keeps the job.
"""

from __future__ import annotations

import pytest

from .conftest import Production
from .processes import wait_until
from .steps import (
    FINE_TUNE,
    fine_tune_jobs_by_run,
    hold_training_slot,
    jobs_in_progress,
    release_training_slot,
)

# A scenario waits for up to 15 minutes of runs (and the first one starts the cluster).
pytestmark = [pytest.mark.production, pytest.mark.slow, pytest.mark.timeout(1800)]


def test_mark_failed_cancels_clear_and_mark_success_keep_the_job(
    production: Production,
) -> None:
    airflow, emulator = production.airflow, production.emulator
    scenario = production.scenario("4 user actions")
    failed, cleared, succeeded = run_ids = airflow.trigger_runs("action", 3)
    hold_training_slot(scenario)
    airflow.wait_deferred(run_ids, FINE_TUNE, timeout=600)

    def each_runs_job() -> dict[str, str] | None:
        found = fine_tune_jobs_by_run(production, run_ids)
        return found if len(found) == len(run_ids) else None

    jobs = wait_until("each deferred fine-tune's job", each_runs_job, 120)
    first_try = airflow.task_instances(cleared)[FINE_TUNE]["try_number"]
    # Users act on a task that has been waiting; acting in the second between a deferral and
    # a triggerer picking its trigger up reaches no trigger (docs/user-actions.md).
    for run_id in run_ids:
        polled = f"DashScope fine-tune job {jobs[run_id]} is "
        airflow.trigger_polling(run_id, FINE_TUNE, polled, 300)

    airflow.set_task_state(failed, FINE_TUNE, "failed")
    airflow.clear_task(cleared, FINE_TUNE)
    airflow.set_task_state(succeeded, FINE_TUNE, "success")

    def new_try_waits() -> str | None:
        ti = airflow.task_instances(cleared)[FINE_TUNE]
        if ti["try_number"] <= first_try or ti["state"] != "deferred":
            return None
        return fine_tune_jobs_by_run(production, [cleared]).get(cleared)

    # The cleared task's new try defers again: on which job?
    reattached = wait_until("the cleared fine-tune's new try to wait", new_try_waits, 300, 2)

    def failed_runs_job_cancelled() -> bool:
        return emulator.jobs()[jobs[failed]]["status"] in ("CANCELING", "CANCELED")

    # The kill reaches the triggerer's on_kill through the scheduler; on a loaded machine
    # that can take longer than the clear's new try. Hold the slot until it lands, so the
    # job cannot finish first (a kill that never cancels still fails here).
    wait_until("the mark-failed fine-tune's job to be cancelled", failed_runs_job_cancelled, 300, 2)
    # Let the held jobs finish (the ones still wanted), then the runs.
    release_training_slot(production)
    wait_until(
        "the kept jobs to finish",
        lambda: not jobs_in_progress(production, list(jobs.values())),
        300,
        every=2,
    )
    # The run marked success is not waited for: its export finds the job still training and
    # tries again after the retry delay; whether the job has ended by then is timing.
    states = airflow.wait_runs([failed, cleared], timeout=600)
    final_jobs = emulator.jobs()
    tis = {run_id: airflow.task_instances(run_id) for run_id in run_ids}
    figures = scenario.report(
        3,
        run_states=states,
        job_states={run: final_jobs[job]["status"] for run, job in jobs.items()},
        fine_tune_states={run: ti[FINE_TUNE]["state"] for run, ti in tis.items()},
    )

    # mark failed: the task is failed and its job cancelled.
    assert tis[failed][FINE_TUNE]["state"] == "failed"
    assert final_jobs[jobs[failed]]["status"] == "CANCELED"
    # clear: the new try reattached to the same job, which was not cancelled, and succeeded.
    assert reattached == jobs[cleared]
    assert final_jobs[jobs[cleared]]["status"] == "SUCCEEDED"
    assert tis[cleared][FINE_TUNE]["state"] == "success"
    assert states[cleared] == "success"
    # mark success: the task is success and its job was kept.
    assert tis[succeeded][FINE_TUNE]["state"] == "success"
    assert final_jobs[jobs[succeeded]]["status"] == "SUCCEEDED"
    # One job per run, one cancel in all.
    assert figures["jobs"] == 3
    assert figures["cancelled"] == 1

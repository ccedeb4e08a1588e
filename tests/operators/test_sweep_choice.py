"""Choosing a sweep's member (pure), and the selection operator run directly on results:
ties, evaluation scores, why nobody qualifies, and the retention rules that keep a loser."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators import DashScopeSelectBestFineTuneOperator
from airflow_dashscope.operators.sweep import map_states
from airflow_dashscope.operators.sweep_table import (
    Member,
    NoQualifiedMemberError,
    choose,
    differing,
    judge,
    match_evaluations,
    table,
)
from tests.operators.conftest import HYPER
from tests.operators.helpers import execute, fine_tune, run


def result(loss: float | None, status: str = "SUCCEEDED", **extra: Any) -> dict[str, Any]:
    training = {"best_val_loss": loss, "final_val_loss": loss, "final_loss": 0.5, "best_loss": 0.4}
    return {"status": status, "job_id": f"ft-{loss}", "training": training, **extra}


def members(*results: dict[str, Any] | None) -> list[Member]:
    return [Member(i, "success" if r else "failed", r) for i, r in enumerate(results)]


def evaluation(model_id: str, mean: float, metric: str = "token_f1") -> dict[str, Any]:
    return {
        "metric": metric,
        "models": {"candidate": model_id, "baseline": "qwen3-8b"},
        "scores": {"candidate": {metric: {"mean": mean}}, "baseline": {metric: {"mean": 0.1}}},
    }


def test_the_lowest_loss_wins_and_a_tie_goes_to_the_lower_map_index() -> None:
    sweep = members(result(0.7), result(0.3), None, result(0.3))
    judge(sweep, "best_val_loss")
    assert choose(sweep, "best_val_loss", "fine_tune").map_index == 1
    assert sweep[2].excluded == "task failed: no result"


def test_a_member_without_the_metric_is_left_out_with_the_reason() -> None:
    sweep = members(result(None), result(0.9), result(0.2, status="CANCELED"))
    sweep[0].result = {"status": "SUCCEEDED", "training": None}
    judge(sweep, "best_val_loss")
    assert sweep[0].excluded == "no training summary (log unreadable)"
    assert sweep[2].excluded == "job CANCELED: no model"
    assert choose(sweep, "best_val_loss", "fine_tune").map_index == 1


def test_no_validation_loss_anywhere_says_to_give_validation_data() -> None:
    sweep = members(result(None), result(None))
    judge(sweep, "best_val_loss")
    with pytest.raises(NoQualifiedMemberError, match="give the fine-tune validation_file_ids"):
        choose(sweep, "best_val_loss", "fine_tune")
    failed = members(None, None)
    judge(failed, "final_loss")
    with pytest.raises(
        NoQualifiedMemberError, match=r"No member of fine_tune succeeded \(0: FAILED"
    ):
        choose(failed, "final_loss", "fine_tune")


def test_the_highest_evaluation_score_wins_matched_by_model_id_despite_shifted_indexes() -> None:
    sweep = members(result(0.1, finetuned_output="m-a"), None, result(0.9, finetuned_output="m-c"))
    # The evaluation mapped over the outputs has 2 members: the failed member shifted m-c's.
    found = match_evaluations(sweep, {0: evaluation("m-a", 0.4), 1: evaluation("m-c-1a2b", 0.8)})
    assert {i: e["models"]["candidate"] for i, e in found.items()} == {0: "m-a", 2: "m-c-1a2b"}
    judge(sweep, "evaluation", evaluations=found)
    assert choose(sweep, "evaluation", "fine_tune").map_index == 2
    judge(sweep, "evaluation", evaluations=found, evaluation_metric="rouge_l")
    assert sweep[0].excluded == "its evaluation has no mean score for rouge_l"


def test_the_table_shows_the_axes_that_differ_and_the_choice() -> None:
    sweep = members(result(0.7), result(0.3))
    sweep[0].hyper_parameters = {"n_epochs": 2, "learning_rate": 1e-3, "batch_size": 2}
    sweep[1].hyper_parameters = {"n_epochs": 2, "learning_rate": 1e-5, "batch_size": 2}
    judge(sweep, "best_val_loss")
    assert differing(sweep) == ["learning_rate"]
    sweep[0].retired = True
    lines = table(sweep, "best_val_loss", sweep[1]).splitlines()
    assert lines[0].split() == ["map", "job", "learning_rate", "status", "best_val_loss", "choice"]
    assert lines[1].split()[-1] == "retired" and lines[2].endswith("<- chosen")


def test_task_states_by_map_index() -> None:
    states = {"r": {"fine_tune_0": "success", "fine_tune_1": "failed", "fine_tune_x_2": "success"}}
    assert map_states(states, "r", "fine_tune") == {0: "success", 1: "failed"}
    assert map_states({"r": {"fine_tune": "upstream_failed"}}, "r", "fine_tune") == {
        -1: "upstream_failed"
    }


def test_an_unknown_metric_or_a_missing_source_is_a_dag_import_error() -> None:
    with pytest.raises(ValueError, match="metric must be one of"):
        DashScopeSelectBestFineTuneOperator(task_id="s", candidates=[], metric="accuracy")
    with pytest.raises(ValueError, match="needs evaluations"):
        DashScopeSelectBestFineTuneOperator(task_id="s", candidates=[], metric="evaluation")
    with pytest.raises(ValueError, match="Pass candidates"):
        DashScopeSelectBestFineTuneOperator(task_id="s")
    op = DashScopeSelectBestFineTuneOperator(task_id="s", fine_tune_task_id="fine_tune")
    assert op.trigger_rule == "all_done"


def test_a_loser_whose_model_is_deployed_is_kept_the_other_retired(
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    clock_running: None,
) -> None:
    split = {**HYPER, "split": 0.5}
    results = [
        run(
            fine_tune(file_id, hyper_parameters={**split, "learning_rate": lr}),
            make_context(f"t{i}"),
        )
        for i, lr in enumerate((1e-3, 1e-5, 3e-3))
    ]
    values = [r["training"]["best_val_loss"] for r in results]
    best = values.index(min(values))
    deployed_loser = next(i for i in range(3) if i != best)
    client.create_deployment(results[deployed_loser]["finetuned_output"])
    select = DashScopeSelectBestFineTuneOperator(task_id="select", candidates=results)
    chosen = execute(select, make_context("select"))
    rows = {m["map_index"]: m for m in chosen["sweep"]["members"]}
    assert chosen["sweep"]["chosen_map_index"] == best
    assert rows[deployed_loser]["retired"] is False
    assert rows[deployed_loser]["retirement"].startswith("its model is deployed as")
    (other,) = set(range(3)) - {best, deployed_loser}
    assert rows[other]["retired"] is True
    listed = {job.job_id for job in client.list_fine_tunes()}
    assert listed == {results[best]["job_id"], results[deployed_loser]["job_id"]}


def test_retire_losers_false_keeps_every_job(
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    clock_running: None,
) -> None:
    hyper = {**HYPER, "split": 0.5}
    results = [
        run(fine_tune(file_id, hyper_parameters=hyper, reuse="never"), make_context(f"t{i}"))
        for i in range(2)
    ]
    select = DashScopeSelectBestFineTuneOperator(
        task_id="select", candidates=results, retire_losers=False
    )
    chosen = execute(select, make_context("select"))
    assert chosen["sweep"]["chosen_map_index"] == 0  # identical members: the lower index
    assert len(client.list_fine_tunes()) == 2
    assert not any(m["retired"] for m in chosen["sweep"]["members"])

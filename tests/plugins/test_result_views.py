"""The evaluation and sweep views, as pure functions of what the tasks recorded."""

from __future__ import annotations

import copy
from typing import Any

from airflow_dashscope.plugins.evaluation import EVALUATION_KEY, evaluation_view
from airflow_dashscope.plugins.sweep import sweep_of, sweep_view
from airflow_dashscope.waiting.training_log import summarize
from tests.plugins.test_tab_logic import record

EVALUATION: dict[str, Any] = {
    "examples": 40,
    "models": {"candidate": "ft-model", "baseline": "qwen3-8b"},
    "metric": "token_f1",
    "scores": {
        "baseline": {
            "rouge_l": {"mean": 0.4, "low": 0.35, "high": 0.45},
            "token_f1": {"mean": 0.41, "low": 0.35, "high": 0.47},
        },
        "candidate": {
            "rouge_l": {"mean": 0.58, "low": 0.5, "high": 0.66},
            "token_f1": {"mean": 0.61, "low": 0.55, "high": 0.67},
        },
    },
    "comparison": {
        "against": "baseline",
        "metric": "token_f1",
        "difference": {"mean": 0.2, "low": 0.1, "high": 0.3},
        "wins": 28,
        "losses": 8,
        "ties": 4,
        "win_rate": 0.7,
    },
    "judge": None,
    "gate": {"rule": "beats baseline by 0.0 at 95%", "passed": True, "why": "0.1 > 0.0"},
    "worst": [
        {
            "line": 12,
            "prompt": "p",
            "reference": "r",
            "answers": {"candidate": "a", "baseline": "b"},
            "scores": {"candidate": 0.1, "baseline": 0.9},
        }
    ],
    "results_path": "/tmp/results.jsonl",
    "usage": {"calls": 80, "input_tokens": 1000, "output_tokens": 500},
    "cost": "0.12",
    "estimated_cost": "0.15",
    "digest": "abc",
    "reused": False,
}


def test_the_evaluation_tab_orders_models_and_metrics_for_the_comparison() -> None:
    task = {"task_id": "evaluate"}
    view = evaluation_view(record("evaluation", xcoms={"return_value": EVALUATION}), task)
    ev = view["evaluation"]
    assert view["source"] == "return_value" and view["task"] is task
    # The candidate first, the baseline (what it is compared against) last.
    assert [m["role"] for m in ev["models"]] == ["candidate", "baseline"]
    assert ev["models"][0]["model"] == "ft-model"
    # The gate's metric first.
    assert [r["metric"] for r in ev["scores"]] == ["token_f1", "rouge_l"]
    assert ev["scores"][0]["models"]["candidate"] == {"mean": 0.61, "low": 0.55, "high": 0.67}
    assert ev["ticks"][0] <= 0.35 and ev["ticks"][-1] >= 0.67
    assert (
        ev["difference_ticks"][0] <= 0 <= ev["difference_ticks"][-1]
        and ev["difference_ticks"][-1] >= 0.3
    )
    assert ev["gate"]["status"] == "PASSED"
    (worst,) = ev["worst"]
    assert [(m["role"], m["answer"], m["score"]) for m in worst["models"]] == [
        ("candidate", "a", 0.1),
        ("baseline", "b", 0.9),
    ]


def test_a_gate_failed_evaluation_is_read_from_the_key_pushed_before_the_gate() -> None:
    failed = copy.deepcopy(EVALUATION)
    failed["gate"] = {"rule": "beats baseline by 0.5 at 95%", "passed": False, "why": "0.1 < 0.5"}
    view = evaluation_view(record("evaluation", state="failed", xcoms={EVALUATION_KEY: failed}), {})
    assert view["source"] == EVALUATION_KEY
    gate = view["evaluation"]["gate"]
    assert gate["status"] == "FAILED" and "ended failed" in gate["why"]
    assert view["refresh_seconds"] is None


def test_no_evaluation_yet_says_why_and_refreshes_while_running() -> None:
    running = evaluation_view(record("evaluation", state="running"), {})
    assert running["evaluation"] is None and running["refresh_seconds"] == 3
    skipped = evaluation_view(record("evaluation", state="skipped"), {})
    assert "ended skipped" in skipped["why"] and skipped["refresh_seconds"] is None
    no_gate = evaluation_view(
        record("evaluation", xcoms={"return_value": {**EVALUATION, "gate": None}}), {}
    )
    assert no_gate["evaluation"]["gate"]["status"] == "NO GATE"


def _log(*losses: tuple[float, float]) -> list[str]:
    n = len(losses)
    return [
        f"2025-01-01 10:00:0{i} step {i + 1}/{n} epoch 1/1 loss {t} val_loss {v}"
        for i, (t, v) in enumerate(losses)
    ]


def _member(i: int, job: str) -> Any:
    return record(
        "fine_tune",
        task_id="fine_tune",
        map_index=i,
        xcoms={"job_id": job},
        rendered={"hyper_parameters": {"learning_rate": 10 ** -(i + 3), "logging_steps": 1}},
    )


def test_a_member_before_the_selection_overlays_its_siblings_without_a_chosen_one() -> None:
    members = [_member(i, f"job-{i}") for i in range(3)]
    run = [*members, record("export")]
    settings, found = sweep_of(members[1], run) or ({}, [])
    assert settings["chosen_map_index"] is None
    assert [m["job_id"] for m in found] == ["job-0", "job-1", "job-2"]
    curves = {"job-0": summarize(_log((2.0, 2.1), (1.0, 1.2))), "job-2": "retired"}
    view = sweep_view(settings, found, curves, current_map_index=1)
    rows = view["members"]
    assert not any(r["chosen"] for r in rows)
    assert [r["current"] for r in rows] == [False, True, False]
    assert rows[0]["value"] == 1.2  # best_val_loss, from the curve
    assert rows[1]["note"] == "no loss logged yet"
    assert rows[2]["retired"] and "retired" in rows[2]["label"]
    assert "learning_rate=0.001" in rows[0]["label"] and "logging_steps" not in rows[0]["label"]
    assert view["axes"]["step"] == [0, 1, 2] or view["axes"]["step"][-1] >= 2
    # A fine-tune that is not mapped is no sweep.
    assert sweep_of(record("fine_tune", task_id="fine_tune"), run) is None


def test_after_the_selection_every_member_tab_marks_the_chosen_one() -> None:
    sweep = {
        "metric": "best_val_loss",
        "direction": "min",
        "fine_tune_task_id": "fine_tune",
        "chosen_map_index": 2,
        "members": [
            {
                "map_index": i,
                "job_id": f"job-{i}",
                "status": "SUCCEEDED",
                "value": v,
                "hyper_parameters": {"n_epochs": i + 1},
                "retired": i == 0,
            }
            for i, v in enumerate((0.5, 0.45, 0.41))
        ],
    }
    selection = record(
        "sweep", task_id="select", xcoms={"return_value": {"job_id": "job-2", "sweep": sweep}}
    )
    member = _member(0, "job-0")
    for shown in (selection, member):
        settings, members = sweep_of(shown, [member, selection]) or ({}, [])
        assert settings["chosen_map_index"] == 2 and settings["selection_task_id"] == "select"
        view = sweep_view(settings, members, {})
        assert [r["chosen"] for r in view["members"]] == [False, False, True]
        assert [r["value"] for r in view["members"]] == [0.5, 0.45, 0.41]
        assert view["members"][0]["retired"] and view["members"][0]["note"].startswith("retired")
        assert view["axes"] is None

"""Stand-ins for the evaluation and sweep-selection operators (being written on the branches
``evaluate`` and ``sweep``, now on main), kept for tests of the tabs' drawing alone: each
carries its operator's link class (how the UI recognises it) and records the documented
result shape. :data:`RESULTS_DAG` (``tests/plugins/test_result_tabs.py`` and the browser
test) runs the real operators.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from airflow_dashscope.links.results import DashScopeEvaluationLink, DashScopeSweepLink

#: The documented evaluation result (the operator's return value, and the XCom ``evaluation``
#: it pushes before its gate decides).
EVALUATION: dict[str, Any] = {
    "examples": 40,
    "models": {"candidate": "qwen3-8b-ft-sweep", "baseline": "qwen3-8b"},
    "metric": "token_f1",
    "scores": {
        "candidate": {
            "token_f1": {"mean": 0.61, "low": 0.55, "high": 0.67},
            "rouge_l": {"mean": 0.57, "low": 0.5, "high": 0.63},
        },
        "baseline": {
            "token_f1": {"mean": 0.41, "low": 0.35, "high": 0.47},
            "rouge_l": {"mean": 0.39, "low": 0.33, "high": 0.45},
        },
    },
    "comparison": {
        "against": "baseline",
        "metric": "token_f1",
        "difference": {"mean": 0.2, "low": 0.12, "high": 0.28},
        "wins": 28,
        "losses": 8,
        "ties": 4,
        "win_rate": 0.7,
    },
    "judge": {
        "model": "qwen-max",
        "wins": 26,
        "losses": 9,
        "ties": 3,
        "inconsistent": 2,
        "win_rate": 0.65,
    },
    "gate": {
        "rule": "beats baseline by 0.0 at 95%",
        "passed": True,
        "why": "the difference's lower bound 0.12 is above 0.0",
    },
    "worst": [
        {
            "line": 12,
            "prompt": "What is a deferrable operator?",
            "reference": "One that waits in the triggerer.",
            "answers": {
                "candidate": "An operator.",
                "baseline": "One that waits in the triggerer.",
            },
            "scores": {"candidate": 0.1, "baseline": 0.9},
        },
        {
            "line": 31,
            "prompt": "Where do XComs live?",
            "reference": "In the metadata database.",
            "answers": {"candidate": "In the scheduler.", "baseline": "In a database."},
            "scores": {"candidate": 0.2, "baseline": 0.5},
        },
    ],
    "results_path": "/tmp/evaluation/results.jsonl",
    "usage": {"calls": 80, "input_tokens": 9600, "output_tokens": 2400},
    "cost": "0.12",
    "estimated_cost": "0.15",
    "digest": "3f1c0e5a9b7d",
    "reused": False,
}


def failing(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The same evaluation under a gate it fails."""
    failed = copy.deepcopy(evaluation)
    failed["gate"] = {
        "rule": "beats baseline by 0.3 at 95%",
        "passed": False,
        "why": "the difference's lower bound 0.12 is not above 0.3",
    }
    return failed


class StandInEvaluation(BaseOperator):
    """Records ``evaluation`` as the evaluation operator will: pushed under ``evaluation``
    first, then returned, or the task skipped when its gate failed."""

    operator_extra_links = (DashScopeEvaluationLink(),)

    def __init__(self, *, evaluation: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.evaluation = evaluation

    def execute(self, context: Any) -> dict[str, Any]:
        try:  # Airflow >= 3.2
            from airflow.sdk.exceptions import AirflowSkipException
        except ImportError:  # pragma: no cover - Airflow 3.1
            from airflow.exceptions import AirflowSkipException

        context["ti"].xcom_push(key="evaluation", value=self.evaluation)
        gate = self.evaluation.get("gate") or {}
        if gate.get("passed") is False:
            raise AirflowSkipException(f"The gate failed: {gate.get('why')}")
        return self.evaluation


class StandInSweepSelection(BaseOperator):
    """Returns the chosen member's fine-tune result plus ``sweep`` (the documented shape):
    ``chosen`` is given (the real operator reads each member's metric), ``retired`` the map
    indexes whose jobs the DAG deleted."""

    operator_extra_links = (DashScopeSweepLink(),)
    template_fields: Sequence[str] = ("results",)

    def __init__(
        self,
        *,
        results: Any,
        hyper_parameters: list[dict[str, Any]],
        chosen: int,
        retired: Sequence[int] = (),
        fine_tune_task_id: str = "fine_tune",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.results = results
        self.hyper_parameters = hyper_parameters
        self.chosen = chosen
        self.retired = retired
        self.fine_tune_task_id = fine_tune_task_id

    def execute(self, context: Any) -> dict[str, Any]:
        results = list(self.results)
        members = [
            {
                "map_index": i,
                "job_id": r.get("job_id"),
                "status": r.get("status"),
                "value": None,
                "hyper_parameters": self.hyper_parameters[i],
                "retired": i in self.retired,
            }
            for i, r in enumerate(results)
        ]
        sweep = {
            "metric": "best_val_loss",
            "direction": "min",
            "fine_tune_task_id": self.fine_tune_task_id,
            "chosen_map_index": self.chosen,
            "members": members,
        }
        chosen = results[self.chosen]
        for key in ("job_id", "finetuned_output"):  # as the fine-tune operator pushes them
            context["ti"].xcom_push(key=key, value=chosen.get(key))
        return {**chosen, "sweep": sweep}


#: A DAG with an evaluation (gate passed), one whose gate failed, a three-member sweep (a
#: mapped fine-tune), its selection, a deploy of the chosen model torn down at the end, and the
#: worst member's job deleted (retired). ``TRAINING_PATH`` and ``FAST`` are set before it.
RESULTS_DAG = """
import pendulum
from airflow.sdk import DAG
from airflow_dashscope.operators import (
    DashScopeDeleteDeploymentOperator,
    DashScopeDeleteFineTuneOperator,
    DashScopeDeployModelOperator,
    DashScopeEvaluateModelOperator,
    DashScopeFineTuneOperator,
    DashScopeSelectBestFineTuneOperator,
    DashScopeUploadFileOperator,
)

RATES = ["2e-5", "1e-4", "2e-3"]
HYPER = [
    {"n_epochs": 2, "batch_size": 8, "max_length": 1024, "logging_steps": 1, "split": 0.2,
     "learning_rate": rate}
    for rate in RATES
]
with DAG(DAG_ID, schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path=TRAINING_PATH)
    fine_tune = DashScopeFineTuneOperator.partial(
        task_id="fine_tune", model="qwen3-8b", training_file_ids=[upload.output],
        training_tokens=upload.output["training_tokens"], **FAST,
    ).expand(hyper_parameters=HYPER)
    select = DashScopeSelectBestFineTuneOperator(
        task_id="select", candidates=fine_tune.output, retire_losers=False,
    )
    retire = DashScopeDeleteFineTuneOperator(
        task_id="retire_worst", job_id="{{ ti.xcom_pull('fine_tune', map_indexes=2)['job_id'] }}",
    )
    deploy = DashScopeDeployModelOperator(
        task_id="deploy", model_name=select.output["finetuned_output"], **FAST
    )
    models = {"candidate": deploy.output["deployed_model"], "baseline": "qwen3-8b"}
    evaluate = DashScopeEvaluateModelOperator(
        task_id="evaluate", heldout_path=HELDOUT_PATH, models=models,
        scorers=["token_f1", "rouge_l"], must_beat="baseline", judge_model="qwen3-32b",
    )
    strict = DashScopeEvaluateModelOperator(
        task_id="evaluate_strict", heldout_path=HELDOUT_PATH, models=models,
        must_beat="baseline", margin=1.0, on_fail="skip",
    )
    teardown = DashScopeDeleteDeploymentOperator(
        task_id="teardown", deployed_model=deploy.output["deployed_model"],
        trigger_rule="all_done",
    )
    select >> retire
    deploy >> [evaluate, strict] >> teardown
"""

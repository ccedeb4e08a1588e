"""Score models on the same held-out examples, paired, and gate the promotion on it.

The steps, in order, so nothing is paid for before the data and the budget are known good:
check the held-out file (every bad line named), estimate tokens and yuan against the budget,
look for the results file of the same inputs (a rerun calls nothing), ask every model about
every example (bounded concurrency, deterministic decoding, backoff when throttled), score,
summarise with bootstrap intervals, write the per-example results beside the data, and apply
the gate. The pieces live in :mod:`airflow_dashscope.evaluation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.exceptions import DashScopeFatalError
from airflow_dashscope.links.results import DashScopeEvaluationLink
from airflow_dashscope.operators.base import DashScopeBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_dashscope.evaluation.run import Evaluation

ON_FAIL = ("fail", "skip")


class GateFailedError(DashScopeFatalError):
    """The candidate did not pass the gate: the same models on the same data fail again."""


class DashScopeEvaluateModelOperator(DashScopeBaseOperator):
    """Score ``models`` on the held-out examples of ``heldout_path`` and gate on the first.

    Returns the summary (``examples``, ``models``, ``metric``, ``scores`` with 95 % intervals,
    ``comparison`` with the paired difference and wins/losses/ties, ``judge``, ``gate``,
    ``worst``, ``results_path``, ``usage``, ``cost``, ``estimated_cost``, ``digest``,
    ``reused``); it is also pushed as the XCom ``evaluation`` before the gate decides, so a
    failed or skipped gate keeps its figures.

    :param heldout_path: ChatML JSONL, one ``{"messages": [...]}`` per line ending with the
        reference answer (assistant); a local path or an object store URL.
    :param models: name -> model id in order (the first is the one the gate judges), e.g.
        ``{"candidate": deploy.output["deployed_model"], "baseline": "qwen3-8b"}``; or one id.
    :param scorers: names (``token_f1``, ``exact_match``, ``rouge_l``) or callables
        ``(answer, reference, example) -> float`` in [0, 1].
    :param metric: the scorer the comparison and the gate use (default: the first).
    :param min_score: gate: the first model's mean ``metric`` must reach it.
    :param must_beat: gate: the model name the first must beat; the lower bound of the paired
        difference's interval at ``confidence`` must exceed ``margin``.
    :param on_fail: ``"fail"`` fails the task (no retry); ``"skip"`` skips it, and so the
        promotion downstream.
    :param judge_model: a model that compares the first model's answers with ``must_beat``'s
        (or the second model's), in both orders.
    :param max_concurrency: calls in flight at once.
    :param max_tokens: the cap on each answer's tokens (and the estimate's).
    :param parameters: generation parameters over the deterministic defaults.
    :param max_tokens_total: refuse to start when the estimated tokens (in and out) exceed it.
    :param max_cost: refuse to start when the estimated yuan exceed it (needs ``prices``).
    :param prices: yuan per 1,000 tokens by model name or id (a number, or ``{"input",
        "output"}``); the package has no inference price table.
    :param output_path: where the per-example results go (default: beside the data).
    :param max_attempts: tries of a call that keeps meeting retryable errors.
    """

    template_fields: Sequence[str] = (
        "heldout_path",
        "models",
        "judge_model",
        "output_path",
        "parameters",
        "dashscope_conn_id",
    )
    template_fields_renderers = {"models": "json", "parameters": "json"}
    operator_extra_links = (DashScopeEvaluationLink(),)

    def __init__(
        self,
        *,
        heldout_path: Any,
        models: Mapping[str, str] | str,
        scorers: Sequence[str | Callable[..., float]] | str = ("token_f1",),
        metric: str | None = None,
        min_score: float | None = None,
        must_beat: str | None = None,
        margin: float = 0.0,
        confidence: float = 0.95,
        on_fail: str = "fail",
        judge_model: str | None = None,
        max_concurrency: int = 4,
        max_tokens: int = 512,
        parameters: dict[str, Any] | None = None,
        max_tokens_total: int | None = None,
        max_cost: Any = None,
        prices: Mapping[str, Any] | None = None,
        output_path: Any = None,
        max_attempts: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if on_fail not in ON_FAIL:
            raise ValueError(f"on_fail must be one of {', '.join(ON_FAIL)}, got {on_fail!r}")
        if not 0 < confidence < 1:
            raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
        if max_concurrency < 1 or max_tokens < 1 or max_attempts < 1:
            raise ValueError("max_concurrency, max_tokens and max_attempts must be >= 1")
        if min_score is not None and not 0 <= min_score <= 1:
            raise ValueError(f"min_score is a mean score in [0, 1], got {min_score!r}")
        self.heldout_path = heldout_path
        self.models = models
        self.scorers = scorers
        self.metric = metric
        self.min_score = min_score
        self.must_beat = must_beat
        self.margin = margin
        self.confidence = confidence
        self.on_fail = on_fail
        self.judge_model = judge_model
        self.max_concurrency = max_concurrency
        self.max_tokens = max_tokens
        self.parameters = parameters
        self.max_tokens_total = max_tokens_total
        self.max_cost = max_cost
        self.prices = prices
        self.output_path = output_path
        self.max_attempts = max_attempts

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_dashscope.evaluation.plan import Plan
        from airflow_dashscope.evaluation.summary import report

        plan = Plan.make(self)
        self.log.info("%s", plan.describe())
        summary = plan.execute(self._run_async, self.log.warning)
        self.log.info("%s", report(summary))
        self.push(context, evaluation=summary)
        self._apply_gate(summary)
        return summary

    def _run_async(self, evaluation: Evaluation, plan: Any) -> None:
        """Run ``evaluation`` on a loop of its own, with the hook's async client."""
        import asyncio

        asyncio.run(self._evaluate(evaluation, plan))

    async def _evaluate(self, evaluation: Evaluation, plan: Any) -> None:
        from airflow_dashscope.client.errors import DashScopeError
        from airflow_dashscope.exceptions import task_error_for

        client = await self.hook.aget_conn()
        try:
            evaluation.caller.client = client
            await evaluation.run(
                plan.source, plan.held.examples, self.max_concurrency, self.log.info
            )
        except DashScopeError as error:
            raise task_error_for(error, "evaluating the models") from error
        finally:
            await self.hook.aclose()

    def _apply_gate(self, summary: Mapping[str, Any]) -> None:
        gate = summary.get("gate")
        if gate is None:
            return
        verdict = f"Gate {'PASSED' if gate['passed'] else 'FAILED'} ({gate['rule']}): {gate['why']}"
        if gate["passed"]:
            self.log.info("%s", verdict)
            return
        self.log.warning("%s", verdict)
        if self.on_fail == "skip":
            try:
                from airflow.sdk.exceptions import AirflowSkipException
            except ImportError:  # Airflow 3.1
                from airflow.exceptions import AirflowSkipException  # type: ignore[no-redef]
            raise AirflowSkipException(verdict)
        raise GateFailedError(verdict)

"""An evaluation from the operator's arguments to its summary.

:meth:`Plan.make` does everything that costs nothing and can refuse: the arguments, the
held-out file, the budget, the results of an identical earlier run. :meth:`Plan.execute`
then asks the models (through the operator's async runner) only about what is missing,
writes the results file, and builds the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from airflow_dashscope.evaluation import cost, summary
from airflow_dashscope.evaluation.calls import Caller, decoding
from airflow_dashscope.evaluation.examples import HeldOut, Source, as_source, check_heldout
from airflow_dashscope.evaluation.gate import Gate
from airflow_dashscope.evaluation.judge import JUDGE_PARAMETERS, PROMPT
from airflow_dashscope.evaluation.results import (
    inputs_digest,
    read_results,
    results_location,
    write_results,
)
from airflow_dashscope.evaluation.run import Evaluation
from airflow_dashscope.evaluation.scorers import Scorer, resolve_scorers
from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.training_data.tokens import estimate_text_tokens

JUDGE = "judge"
#: A single model given as a string is evaluated under this name.
SINGLE = "candidate"


def model_map(models: Any) -> dict[str, str]:
    """``models`` as name -> id in the order given (a single id: ``{"candidate": id}``)."""
    if isinstance(models, str):
        models = {SINGLE: models}
    if not isinstance(models, Mapping) or not models:
        raise InvalidRequestError(
            'models must be a model id or a mapping such as {"candidate": ..., "baseline": ...}'
            f", got {models!r}"
        )
    bad = [
        name for name, model in models.items() if not isinstance(model, str) or not model.strip()
    ]
    if bad:
        raise InvalidRequestError(
            f"models: {', '.join(map(repr, bad))} has no model id (an upstream XCom was empty?)"
        )
    return {str(name): model.strip() for name, model in models.items()}


@dataclass
class Plan:
    source: Source
    held: HeldOut
    models: dict[str, str]
    scorers: dict[str, Scorer]
    metric: str
    against: str | None
    gate: Gate
    judge_model: str | None
    parameters: dict[str, Any]
    digest: str
    location: Source
    stored: dict[int, dict[str, Any]]
    prices: dict[str, cost.Price]
    estimate: dict[str, cost.Tokens]
    estimated_cost: Decimal | None
    max_concurrency: int
    max_attempts: int

    @classmethod
    def make(cls, op: Any) -> Plan:
        """Checks everything before any call; raises a fatal task error on bad input."""
        models = model_map(op.models)
        scorers = resolve_scorers(op.scorers)
        metric = op.metric or next(iter(scorers))
        if metric not in scorers:
            raise InvalidRequestError(
                f"metric {metric!r} is not among the scorers ({', '.join(scorers)}): add it to "
                "scorers or pick one of them."
            )
        first = next(iter(models))
        against = op.must_beat or (list(models)[1] if len(models) > 1 else None)
        if against is not None and (against not in models or against == first):
            raise InvalidRequestError(
                f"must_beat={against!r} must name another of the models "
                f"({', '.join(m for m in models if m != first) or 'give a second model'})."
            )
        gate = Gate(op.min_score, op.must_beat, float(op.margin), float(op.confidence))
        source = as_source(op.heldout_path)
        held = check_heldout(source, models[first])
        parameters = decoding(op.max_tokens, op.parameters)
        judge_model = op.judge_model or None
        if judge_model and against is None:
            raise InvalidRequestError("judge_model needs two models to compare: add a baseline.")
        if judge_model and JUDGE in models:
            raise InvalidRequestError(
                f"models: rename {JUDGE!r}; the judge's usage goes by that name."
            )
        digest = inputs_digest(held.sha256, models, parameters, judge_model)
        location = results_location(source, digest, op.output_path)
        stored = read_results(location, digest)
        prices = cost.parse_prices(op.prices)
        ids = {**models, **({JUDGE: judge_model} if judge_model else {})}
        estimate = estimated_tokens(held, models, judge_model, op.max_tokens, set(stored))
        estimated = cost.check_budget(
            estimate, prices, ids, max_tokens_total=op.max_tokens_total, max_cost=op.max_cost
        )
        return cls(
            source,
            held,
            models,
            scorers,
            metric,
            against,
            gate,
            judge_model,
            parameters,
            digest,
            location,
            stored,
            prices,
            estimate,
            estimated,
            op.max_concurrency,
            op.max_attempts,
        )

    @property
    def ids(self) -> dict[str, str]:
        return {**self.models, **({JUDGE: self.judge_model} if self.judge_model else {})}

    def describe(self) -> str:
        calls = sum(t.calls for t in self.estimate.values())
        money = cost.yuan_text(self.estimated_cost)
        lines = [
            f"Evaluating {', '.join(f'{n}={m}' for n, m in self.models.items())} on "
            f"{self.held.examples} examples of {self.held.name} (metric {self.metric}"
            f"{', gate: ' + self.gate.rule() if self.gate.active else ''}).",
            f"Results: {self.location} (inputs digest {self.digest[:8]}).",
        ]
        if self.stored:
            lines.append(f"Reusing {len(self.stored)} stored example(s) from an identical run.")
        lines.append(f"Estimate before any call: {calls} calls, {money}:")
        lines.append(cost.describe(self.estimate, self.prices, self.ids))
        return "\n".join(lines)

    def execute(
        self, runner: Callable[[Evaluation, Plan], None], warn: Callable[..., None]
    ) -> dict[str, Any]:
        """The summary; ``runner`` asks the models (none when every example is stored),
        ``warn`` logs a retried call."""
        judge = (self.judge_model, self.against) if self.judge_model and self.against else None
        caller = Caller(
            None,
            self.parameters,
            max_concurrency=self.max_concurrency,
            max_attempts=self.max_attempts,
            log=warn,
        )
        evaluation = Evaluation(caller, self.models, judge=judge, stored=self.stored)
        if len(self.stored) >= self.held.examples:
            evaluation.records = dict(self.stored)
        else:
            try:
                runner(evaluation, self)
            except BaseException:
                # What is answered is paid for: kept (with what an earlier try kept) for the next.
                kept = {**self.stored, **evaluation.records}
                if len(kept) > len(self.stored):
                    write_results(self.location, self.digest, self.models, kept.values())
                raise
        records = [evaluation.records[line] for line in sorted(evaluation.records)]
        summary.score_records(records, list(self.models), self.scorers)
        write_results(self.location, self.digest, self.models, records)  # scores may be new
        return self.summarise(records, caller, reused=caller.total().calls == 0)

    def summarise(
        self, records: list[dict[str, Any]], caller: Caller, *, reused: bool
    ) -> dict[str, Any]:
        first = next(iter(self.models))
        conf = self.gate.confidence
        table = summary.score_table(records, list(self.models), list(self.scorers), conf)
        difference, compared = None, None
        if self.against:
            difference, compared = summary.comparison(
                records, first, self.against, self.metric, conf
            )
        used = {
            name: cost.Tokens(u.calls, u.input_tokens, u.output_tokens)
            for name, model in self.ids.items()
            if (u := caller.usage.get(model)) is not None
        }
        total = caller.total()
        spent = cost.total_cost(used, self.prices, self.ids) if used else Decimal("0.00")
        return {
            "examples": len(records),
            "models": dict(self.models),
            "metric": self.metric,
            "scores": {m: {s: i.to_dict() for s, i in row.items()} for m, row in table.items()},
            "comparison": compared,
            "judge": summary.judge_tally(records, self.judge_model),
            "gate": self.gate.judge(first, self.metric, table[first][self.metric], difference),
            "worst": summary.worst_examples(records, first, self.against, self.metric),
            "results_path": str(self.location),
            "usage": total.to_dict(),
            "cost": None if spent is None else str(spent),
            "estimated_cost": None if self.estimated_cost is None else str(self.estimated_cost),
            "digest": self.digest,
            "reused": reused,
        }


def estimated_tokens(
    held: HeldOut,
    models: Mapping[str, str],
    judge_model: str | None,
    max_tokens: int,
    stored: set[int],
) -> dict[str, cost.Tokens]:
    """Calls and tokens each model will be asked for (the stored examples excluded)."""
    n = max(0, held.examples - len(stored))
    share = n / held.examples if held.examples else 0
    prompt = round(held.prompt_tokens * share)
    estimate = {name: cost.Tokens(n, prompt, n * max_tokens) for name in models}
    if judge_model:
        template = estimate_text_tokens(PROMPT)
        judged = prompt + round(held.reference_tokens * share) + n * (template + 2 * max_tokens)
        estimate[JUDGE] = cost.Tokens(2 * n, 2 * judged, 2 * n * JUDGE_PARAMETERS["max_tokens"])
    return estimate

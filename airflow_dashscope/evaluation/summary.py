"""The evaluation's figures from its records: scores with intervals, the paired comparison,
the judge's tally, the worst examples. Pure: no I/O, no calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_dashscope.evaluation.judge import judge_summary
from airflow_dashscope.evaluation.scorers import Scorer, score
from airflow_dashscope.evaluation.stats import (
    Interval,
    bootstrap_mean,
    paired_difference,
    win_record,
)

WORST = 10


def score_records(
    records: Sequence[dict[str, Any]], models: Sequence[str], scorers: Mapping[str, Scorer]
) -> None:
    """Set each record's ``scores`` (model -> scorer -> value), from its stored answers."""
    for record in records:
        example = {
            "messages": [*record["prompt"], {"role": "assistant", "content": record["reference"]}]
        }
        record["scores"] = {
            model: {
                name: score(name, scorer, record["answers"][model], record["reference"], example)
                for name, scorer in scorers.items()
            }
            for model in models
        }


def column(records: Sequence[Mapping[str, Any]], model: str, metric: str) -> list[float]:
    return [float(record["scores"][model][metric]) for record in records]


def score_table(
    records: Sequence[Mapping[str, Any]],
    models: Sequence[str],
    scorers: Sequence[str],
    confidence: float,
) -> dict[str, dict[str, Interval]]:
    return {
        model: {name: bootstrap_mean(column(records, model, name), confidence) for name in scorers}
        for model in models
    }


def comparison(
    records: Sequence[Mapping[str, Any]], first: str, against: str, metric: str, confidence: float
) -> tuple[Interval, dict[str, Any]]:
    mine, theirs = column(records, first, metric), column(records, against, metric)
    difference = paired_difference(mine, theirs, confidence)
    tally = win_record(mine, theirs)
    return difference, {
        "against": against,
        "metric": metric,
        "difference": difference.to_dict(),
        "wins": tally.wins,
        "losses": tally.losses,
        "ties": tally.ties,
        "win_rate": round(tally.win_rate, 6),
        "confidence": confidence,
    }


def judge_tally(
    records: Sequence[Mapping[str, Any]], judge_model: str | None
) -> dict[str, Any] | None:
    if judge_model is None:
        return None
    verdicts = [record["judge"] for record in records if record.get("judge")]
    summary = judge_summary(judge_model, (verdict["outcome"] for verdict in verdicts))
    summary["against"] = verdicts[0]["against"] if verdicts else None
    return summary


def worst_examples(
    records: Sequence[Mapping[str, Any]], first: str, against: str | None, metric: str
) -> list[dict[str, Any]]:
    """Up to ten examples where the first model fares worst against ``against``: the lowest
    difference first, then its own lowest score (with no other model: its lowest scores).
    A candidate that never loses still shows its weakest answers, the ones to read."""

    def rank(record: Mapping[str, Any]) -> tuple[float, float, int]:
        mine = float(record["scores"][first][metric])
        gap = mine - float(record["scores"][against][metric]) if against else mine
        return gap, mine, int(record["line"])

    ranked = sorted(records, key=rank)
    return [
        {
            "line": record["line"],
            "prompt": record["question"],
            "reference": record["reference"],
            "answers": dict(record["answers"]),
            "scores": {model: scores[metric] for model, scores in record["scores"].items()},
        }
        for record in ranked[:WORST]
    ]


def report(result: Mapping[str, Any]) -> str:
    """The summary for the task log: scores with intervals, the comparison, the judge, and
    what was used."""
    lines = [f"Scores on {result['examples']} examples (mean [95% interval]):"]
    for model, row in result["scores"].items():
        cells = ", ".join(f"{name} {Interval(**interval)}" for name, interval in row.items())
        lines.append(f"  {model} ({result['models'][model]}): {cells}")
    compared = result.get("comparison")
    if compared:
        first = next(iter(result["models"]))
        lines.append(
            f"  {first} - {compared['against']} on {compared['metric']}: "
            f"{Interval(**compared['difference'])}; {compared['wins']} wins, "
            f"{compared['losses']} losses, {compared['ties']} ties (win rate "
            f"{compared['win_rate']:.0%})"
        )
    judged = result.get("judge")
    if judged:
        lines.append(
            f"  judge {judged['model']}: {judged['wins']} wins, {judged['losses']} losses, "
            f"{judged['ties']} ties, {judged['inconsistent']} inconsistent, "
            f"{judged['unparsed']} unparsed (win rate {judged['win_rate']:.0%})"
        )
    usage = result["usage"]
    if result["reused"]:
        lines.append(f"No model was called: every answer was reused from {result['results_path']}.")
    else:
        spent = "¥ unknown (no inference price)" if result["cost"] is None else f"¥{result['cost']}"
        lines.append(
            f"Used: {usage['calls']} calls ({usage['retries']} retried), "
            f"{usage['input_tokens']} tokens in, {usage['output_tokens']} out, {spent}; "
            f"results in {result['results_path']}"
        )
    return "\n".join(lines)

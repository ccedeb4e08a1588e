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
    """Up to ten examples where the first model loses most to ``against`` (with no other
    model: its lowest scores)."""

    def gap(record: Mapping[str, Any]) -> float:
        mine = float(record["scores"][first][metric])
        return mine - float(record["scores"][against][metric]) if against else mine

    ranked = sorted(records, key=lambda record: (gap(record), record["line"]))
    if against:
        ranked = [record for record in ranked if gap(record) < 0]
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

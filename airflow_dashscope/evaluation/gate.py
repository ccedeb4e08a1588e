"""The gate: does the first model earn its promotion? Two rules, either or both:

* ``min_score``: its mean of the gate's metric reaches the bar;
* ``must_beat``: the lower bound of the paired difference's interval (first model minus the
  named one, at ``confidence``) exceeds ``margin``. A lower bound, not the mean: a candidate
  that is better on average by luck of the examples does not pass.

The verdict says why in figures, for the task log and the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_dashscope.evaluation.stats import Interval


@dataclass(frozen=True)
class Gate:
    min_score: float | None = None
    must_beat: str | None = None
    margin: float = 0.0
    confidence: float = 0.95

    @property
    def active(self) -> bool:
        return self.min_score is not None or self.must_beat is not None

    def rule(self) -> str:
        parts = []
        if self.min_score is not None:
            parts.append(f"mean >= {self.min_score:g}")
        if self.must_beat is not None:
            parts.append(f"beats {self.must_beat} by {self.margin:g} at {self.confidence:.0%}")
        return " and ".join(parts)

    def judge(
        self, model: str, metric: str, score: Interval, difference: Interval | None
    ) -> dict[str, Any] | None:
        """``{"rule", "passed", "why"}``, or None when no rule is set."""
        if not self.active:
            return None
        reasons, passed = [], True
        if self.min_score is not None:
            ok = score.mean >= self.min_score
            passed &= ok
            reasons.append(
                f"{model}'s mean {metric} {score.mean:.3f} "
                f"{'reaches' if ok else 'is below'} min_score {self.min_score:g}"
            )
        if self.must_beat is not None and difference is not None:
            ok = difference.low > self.margin
            passed &= ok
            reasons.append(
                f"{model} - {self.must_beat} on {metric} is {difference.mean:+.3f}, "
                f"{self.confidence:.0%} interval [{difference.low:+.3f}, {difference.high:+.3f}]: "
                f"its lower bound {'exceeds' if ok else 'does not exceed'} the margin "
                f"{self.margin:g}"
            )
        return {"rule": self.rule(), "passed": bool(passed), "why": "; ".join(reasons)}

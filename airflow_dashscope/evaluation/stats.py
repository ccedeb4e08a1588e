"""Bootstrap confidence intervals (pure Python, seeded, so a rerun gives the same figures).

A model's mean score gets a percentile bootstrap interval over the examples. Two models
answered the *same* examples, so their difference is bootstrapped over the per-example
differences (a paired bootstrap): the example-to-example spread, which is large and shared,
cancels, and the interval is much narrower than comparing two separate intervals.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

RESAMPLES = 2000
SEED = 20260101
#: Two scores closer than this are a tie.
TIE = 1e-9


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"mean": round(self.mean, 6), "low": round(self.low, 6), "high": round(self.high, 6)}

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


def bootstrap_mean(
    values: Sequence[float],
    confidence: float = 0.95,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Interval:
    """The mean with its two-sided percentile bootstrap interval at ``confidence``."""
    if not values:
        raise ValueError("no values to summarise")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    n = len(values)
    mean = math.fsum(values) / n
    if n == 1 or max(values) - min(values) <= TIE:
        return Interval(mean, mean, mean)
    rng = random.Random(seed)
    means = sorted(math.fsum(rng.choices(values, k=n)) / n for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = means[max(0, math.floor(tail * resamples))]
    high = means[min(resamples - 1, math.ceil((1 - tail) * resamples) - 1)]
    return Interval(mean, min(low, mean), max(high, mean))


def paired_difference(
    first: Sequence[float],
    second: Sequence[float],
    confidence: float = 0.95,
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Interval:
    """``first - second`` on the same examples, with its paired bootstrap interval."""
    if len(first) != len(second):
        raise ValueError("paired scores need the same examples on both sides")
    differences = [a - b for a, b in zip(first, second, strict=True)]
    return bootstrap_mean(differences, confidence, resamples=resamples, seed=seed)


@dataclass(frozen=True)
class Record:
    """Wins, losses and ties of the first model against the second, example by example."""

    wins: int
    losses: int
    ties: int

    @property
    def total(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def win_rate(self) -> float:
        """Wins over all examples (a tie is not a win)."""
        return self.wins / self.total if self.total else 0.0


def win_record(first: Sequence[float], second: Sequence[float]) -> Record:
    wins = sum(1 for a, b in zip(first, second, strict=True) if a - b > TIE)
    losses = sum(1 for a, b in zip(first, second, strict=True) if b - a > TIE)
    return Record(wins, losses, len(first) - wins - losses)

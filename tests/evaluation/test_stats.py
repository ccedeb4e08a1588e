"""Bootstrap intervals: reproducible, right on small known cases, paired."""

from __future__ import annotations

import pytest

from airflow_dashscope.evaluation.stats import (
    bootstrap_mean,
    paired_difference,
    win_record,
)


def test_the_same_seed_gives_the_same_interval() -> None:
    values = [0.1, 0.9, 0.4, 0.7, 0.3, 0.8, 0.2]
    assert bootstrap_mean(values) == bootstrap_mean(list(values))
    other = bootstrap_mean(values, seed=7)
    assert other.mean == bootstrap_mean(values).mean
    assert (other.low, other.high) != (bootstrap_mean(values).low, bootstrap_mean(values).high)


def test_constant_values_and_one_value_have_no_spread() -> None:
    interval = bootstrap_mean([0.25] * 30)
    assert (interval.mean, interval.low, interval.high) == (0.25, 0.25, 0.25)
    single = bootstrap_mean([0.6])
    assert (single.low, single.high) == (0.6, 0.6)


def test_two_values_resample_to_zero_half_and_one() -> None:
    # Means of two draws from {0, 1}: 0 (1/4), 0.5 (1/2), 1 (1/4); the 95 % interval is [0, 1].
    interval = bootstrap_mean([0.0, 1.0])
    assert (interval.mean, interval.low, interval.high) == (0.5, 0.0, 1.0)
    # At 40 % confidence the middle value alone is left.
    narrow = bootstrap_mean([0.0, 1.0], 0.4)
    assert (narrow.low, narrow.high) == (0.5, 0.5)


def test_the_interval_matches_the_normal_approximation_on_many_values() -> None:
    values = [float(i % 2) for i in range(400)]  # mean 0.5, standard error 0.025
    interval = bootstrap_mean(values)
    assert interval.mean == 0.5
    assert interval.low == pytest.approx(0.5 - 1.96 * 0.025, abs=0.01)
    assert interval.high == pytest.approx(0.5 + 1.96 * 0.025, abs=0.01)
    wider = bootstrap_mean(values, 0.99)
    assert wider.low < interval.low and wider.high > interval.high


def test_the_paired_difference_cancels_the_shared_spread() -> None:
    difficulty = [0.1, 0.9, 0.3, 0.7, 0.5, 0.2, 0.8, 0.4, 0.6, 0.0]
    better = [d + 0.05 for d in difficulty]
    paired = paired_difference(better, difficulty)
    assert paired.mean == pytest.approx(0.05)
    assert paired.low == pytest.approx(0.05) and paired.high == pytest.approx(0.05)
    # Two separate intervals overlap widely: unpaired, the gain would look like noise.
    assert bootstrap_mean(better).low < bootstrap_mean(difficulty).high
    with pytest.raises(ValueError, match="same examples"):
        paired_difference([1.0], [1.0, 0.0])


def test_wins_losses_ties_and_win_rate() -> None:
    record = win_record([1.0, 0.5, 0.2, 0.7], [0.0, 0.5, 0.9, 0.1])
    assert (record.wins, record.losses, record.ties) == (2, 1, 1)
    assert record.win_rate == 0.5
    assert win_record([], []).win_rate == 0.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="no values"):
        bootstrap_mean([])
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_mean([0.1, 0.2], 1.5)

"""The training price table and the yuan a bill comes to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from airflow_dashscope.checks.prices import (
    configured_prices,
    training_cost,
    training_price,
    yuan,
)


def test_the_pages_example_prices() -> None:
    assert training_price("qwen3-8b") == Decimal("0.006")
    assert training_price("qwen2.5-72b-instruct") == Decimal("0.15")
    # 1,608 billed tokens of qwen3-8b at 0.006 per 1,000: 0.0096 -> 0.01 yuan.
    assert training_cost(1608, "qwen3-8b") == Decimal("0.01")
    assert training_cost(2_000_000, "qwen3-14b") == Decimal("60.00")


def test_a_continued_model_is_billed_at_its_base_models_price() -> None:
    assert training_price("qwen3-8b-ft-202601010101-ab12", base_model="qwen3-8b") == Decimal(
        "0.006"
    )


def test_an_unknown_model_has_no_price_rather_than_a_guess() -> None:
    assert training_price("qwen-next-99b") is None
    assert training_cost(1000, "qwen-next-99b") is None
    assert training_cost(None, "qwen3-8b") is None
    assert yuan(None) == "¥ unknown"
    assert yuan(Decimal("1.50")) == "¥1.50"


def test_the_setting_overrides_and_extends_the_table() -> None:
    overrides = '{"qwen3-8b": 0.01, "qwen-next-99b": "0.2"}'
    assert training_price("qwen3-8b", overrides=overrides) == Decimal("0.01")
    assert training_price("qwen-next-99b", overrides=overrides) == Decimal("0.2")
    assert configured_prices("") == {}


@pytest.mark.parametrize(
    ("raw", "names"),
    [("not json", "JSON object"), ("[1]", "JSON object"), ('{"m": -1}', "'m'")],
)
def test_a_bad_setting_says_what_is_wrong(raw: str, names: str) -> None:
    with pytest.raises(ValueError, match="training_prices") as caught:
        configured_prices(raw)
    assert names in str(caught.value)

"""What an evaluation costs: estimated before the first call, counted after.

Tokens in are estimated with the package's estimator (``training_data.tokens``) from each
prompt's length, tokens out as at most ``max_tokens`` per call. The package has no table of
inference prices (``checks/prices.py`` holds training prices), so yuan come from the
``prices`` the user passes (yuan per 1,000 tokens, by model name or id: one number, or
``{"input": ..., "output": ...}``); without a price the amount is unknown and said so, and
the token budget ``max_tokens_total`` still holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from airflow_dashscope.checks.prices import as_yuan, yuan
from airflow_dashscope.exceptions import InvalidRequestError, OverBudgetError

FEN = Decimal("0.01")


@dataclass(frozen=True)
class Price:
    """Yuan per 1,000 tokens in and out."""

    input: Decimal
    output: Decimal

    def of(self, input_tokens: int, output_tokens: int) -> Decimal:
        return (input_tokens * self.input + output_tokens * self.output) / 1000


@dataclass(frozen=True)
class Tokens:
    calls: int
    input: int
    output: int

    @property
    def total(self) -> int:
        return self.input + self.output


def _decimal(value: Any, where: str) -> Decimal:
    amount = as_yuan(value)
    if amount is None:
        raise InvalidRequestError(f"{where} must be a number of yuan >= 0, got {value!r}")
    return amount


def parse_prices(prices: Mapping[str, Any] | None) -> dict[str, Price]:
    """``prices`` checked: each a number or ``{"input": x, "output": y}`` (yuan per 1,000)."""
    parsed = {}
    for model, price in (prices or {}).items():
        if isinstance(price, Mapping):
            parsed[str(model)] = Price(
                _decimal(price.get("input"), f"prices[{model!r}]['input']"),
                _decimal(price.get("output"), f"prices[{model!r}]['output']"),
            )
        else:
            amount = _decimal(price, f"prices[{model!r}]")
            parsed[str(model)] = Price(amount, amount)
    return parsed


def price_for(prices: Mapping[str, Price], name: str, model_id: str) -> Price | None:
    return prices.get(name) or prices.get(model_id)


def total_cost(
    tokens: Mapping[str, Tokens], prices: Mapping[str, Price], ids: Mapping[str, str]
) -> Decimal | None:
    """Yuan for every model's tokens (rounded to the fen); None if one has no price."""
    amount = Decimal(0)
    for name, used in tokens.items():
        price = price_for(prices, name, ids[name])
        if price is None:
            return None
        amount += price.of(used.input, used.output)
    return amount.quantize(FEN)


def yuan_text(amount: Decimal | None) -> str:
    return (
        "¥ unknown (no inference price; the token budget applies)"
        if amount is None
        else yuan(amount)
    )


def describe(
    tokens: Mapping[str, Tokens], prices: Mapping[str, Price], ids: Mapping[str, str]
) -> str:
    """One line per model: calls, tokens, and yuan or why not."""
    lines = []
    for name, used in tokens.items():
        price = price_for(prices, name, ids[name])
        money = (
            yuan(price.of(used.input, used.output).quantize(FEN))
            if price
            else f"¥ unknown: no inference price for {ids[name]} (pass prices=)"
        )
        lines.append(
            f"  {name} ({ids[name]}): {used.calls} calls, {used.input} tokens in, "
            f"{used.output} out, {money}"
        )
    return "\n".join(lines)


def check_budget(
    estimate: Mapping[str, Tokens],
    prices: Mapping[str, Price],
    ids: Mapping[str, str],
    *,
    max_tokens_total: int | None,
    max_cost: Any,
) -> Decimal | None:
    """The estimated yuan (None without every price); raises :class:`OverBudgetError` over a
    budget, before any call."""
    total = sum(used.total for used in estimate.values())
    if max_tokens_total is not None and total > max_tokens_total:
        raise OverBudgetError(
            f"Evaluate fewer examples or lower max_tokens: the estimated {total} tokens exceed "
            f"max_tokens_total ({max_tokens_total}).\n{describe(estimate, prices, ids)}"
        )
    amount = total_cost(estimate, prices, ids)
    if max_cost is not None:
        limit = _decimal(max_cost, "max_cost")
        if amount is None:
            missing = [ids[n] for n in estimate if price_for(prices, n, ids[n]) is None]
            raise InvalidRequestError(
                f"max_cost needs a price for every model called: pass prices= for "
                f"{', '.join(missing)} (yuan per 1,000 tokens), or use max_tokens_total."
            )
        if amount > limit:
            raise OverBudgetError(
                f"Evaluate fewer examples or lower max_tokens: the estimated cost "
                f"({yuan(amount)}) exceeds max_cost ({yuan(limit)}).\n"
                f"{describe(estimate, prices, ids)}"
            )
    return amount

"""What training costs in yuan: the unit prices of ``model-training-and-deployment-billing.md``.

The page's rule: fee = (training-data tokens + mixed-in tokens) x epochs x the model's unit
price, in yuan per 1,000 tokens, billed to the token. Prices change more often than code, so
``[dashscope] training_prices`` (a JSON object ``{"model": yuan per 1,000 tokens}``) overrides
or extends the table; a model found in neither has no price (``None``), never a guessed one.
A fine-tuned model continuing a lineage is billed at its base model's price. No I/O.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

#: Yuan per 1,000 training tokens (China (Beijing); the page gives no other region's table).
TRAINING_PRICES: dict[str, Decimal] = {
    "qwen3.5-27b": Decimal("0.05"),
    "qwen3.5-9b": Decimal("0.02"),
    "qwen3-32b": Decimal("0.04"),
    "qwen3-30b-a3b-instruct-2507": Decimal("0.03"),
    "qwen3-14b": Decimal("0.03"),
    "qwen3-8b": Decimal("0.006"),
    "qwen3-1.7b": Decimal("0.0045"),
    "qwen3-0.6b": Decimal("0.003"),
    "qwen2.5-72b-instruct": Decimal("0.15"),
    "qwen2.5-32b-instruct": Decimal("0.03"),
    "qwen2.5-14b-instruct": Decimal("0.03"),
    "qwen2.5-7b-instruct": Decimal("0.006"),
    "qwen-plus-character-2025-11-06": Decimal("0.15"),
    "qwen3-vl-8b-instruct": Decimal("0.015"),
    "qwen3-vl-8b-thinking": Decimal("0.015"),
    "qwen3-vl-4b-instruct": Decimal("0.006"),
    "qwen2.5-vl-72b-instruct": Decimal("0.05"),
    "qwen2.5-vl-32b-instruct": Decimal("0.02"),
    "qwen2.5-vl-7b-instruct": Decimal("0.01"),
}
PRICES_OPTION = "training_prices"
#: What a line says instead of a guessed amount when a model has no price.
NO_PRICE = f"¥ unknown: set [dashscope] {PRICES_OPTION}"


def as_yuan(value: Any) -> Decimal | None:
    """An amount of yuan (a number or numeric text, ``"¥"`` allowed) as a Decimal; None when
    it is not one >= 0 (each caller's error says where the value came from)."""
    if isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip().lstrip("¥"))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def configured_prices(raw: Any) -> dict[str, Decimal]:
    """``[dashscope] training_prices`` parsed; raises ``ValueError`` naming what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        mapping = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as error:
        raise ValueError(
            f"[dashscope] {PRICES_OPTION} must be a JSON object such as "
            f'{{"qwen3-8b": 0.006}} (yuan per 1,000 tokens): {error}'
        ) from None
    if not isinstance(mapping, dict):
        raise ValueError(f"[dashscope] {PRICES_OPTION} must be a JSON object, got {raw!r}")
    prices = {}
    for model, price in mapping.items():
        value = as_yuan(price)
        if value is None:
            raise ValueError(
                f"[dashscope] {PRICES_OPTION}: the price of {model!r} must be a number of "
                f"yuan per 1,000 tokens >= 0, got {price!r}"
            )
        prices[str(model)] = value
    return prices


def price_setting() -> Any:
    """The raw ``[dashscope] training_prices`` option (None when unset)."""
    from airflow_dashscope.hooks.defaults import setting

    return setting(PRICES_OPTION)


def training_price(
    model: str | None, *, base_model: str | None = None, overrides: Any = None
) -> Decimal | None:
    """Yuan per 1,000 training tokens for ``model`` (or the ``base_model`` it continues);
    ``overrides``: the setting's value (``price_setting()``)."""
    table = {**TRAINING_PRICES, **configured_prices(overrides)}
    for name in (model, base_model):
        if name and name in table:
            return table[name]
    return None


def training_cost(
    billed_tokens: int | None,
    model: str | None,
    *,
    base_model: str | None = None,
    overrides: Any = None,
) -> Decimal | None:
    """Yuan for ``billed_tokens`` (tokens x epochs, as the service bills them), rounded to the
    fen; None when the tokens or the price are unknown."""
    price = training_price(model, base_model=base_model, overrides=overrides)
    return cost_at(billed_tokens, price)


def cost_at(billed_tokens: int | None, price: Decimal | None) -> Decimal | None:
    """Yuan for ``billed_tokens`` at ``price`` per 1,000, rounded to the fen (None if unknown)."""
    if billed_tokens is None or price is None:
        return None
    return (Decimal(billed_tokens) * price / 1000).quantize(Decimal("0.01"))


def cost_note(billed_tokens: int, model: str | None, price: Decimal | None) -> str:
    """``about ¥0.03 at ¥0.006 per 1,000 for qwen3-8b``, or why there is no amount."""
    if price is None:
        return f"{NO_PRICE} for {model or 'the model'}"
    return f"about {yuan(cost_at(billed_tokens, price))} at ¥{price} per 1,000 for {model}"


def yuan(amount: Decimal | None) -> str:
    """``¥1.23``, or ``¥ unknown`` without a price."""
    return "¥ unknown" if amount is None else f"¥{amount}"

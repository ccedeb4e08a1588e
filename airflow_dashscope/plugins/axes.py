"""Chart axes with "nice" ticks (steps of 1, 2 or 5 x 10^k), decided here once for every chart
the pages draw (the fine-tune curve, a sweep's overlaid curves, an evaluation's scores), so the
script only places what it is given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

#: About this many intervals on an axis.
TARGET_TICKS = 5


def nice_step(span: float, target: int = TARGET_TICKS) -> float:
    """The 1/2/5 x 10^k step that cuts ``span`` into about ``target`` intervals."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, target)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10 * power  # pragma: no cover  (the loop always returns)


def nice_ticks(
    low: float, high: float, target: int = TARGET_TICKS, *, integer: bool = False
) -> list[float]:
    """Ticks covering [low, high], first and last on a multiple of the step (the axis' domain);
    ``integer``: steps of at least 1 (steps, epochs)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = nice_step(high - low, target)
    if integer:
        step = max(1.0, step)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    digits = max(0, -math.floor(math.log10(step))) + 1
    return [round(i * step, digits) for i in range(first, last + 1)]


def _values(points: Iterable[dict[str, Any]], *keys: str) -> list[float]:
    return [float(p[k]) for p in points for k in keys if isinstance(p.get(k), (int, float))]


def loss_axes(
    curves: Iterable[list[dict[str, Any]]],
    *,
    total_steps: int | None = None,
    total_epochs: float | None = None,
) -> dict[str, list[float]] | None:
    """Ticks of the loss charts: ``loss`` (y), ``step`` and ``epoch`` (x, from 0 to the end of
    training when known); None when nothing was logged."""
    curves = list(curves)
    losses = [v for points in curves for v in _values(points, "train_loss", "val_loss")]
    if not losses:
        return None
    steps = [0.0, float(total_steps or 0), *(v for c in curves for v in _values(c, "step"))]
    epochs = [0.0, float(total_epochs or 0), *(v for c in curves for v in _values(c, "epoch"))]
    low = max(0.0, min(losses))
    return {
        "loss": nice_ticks(low, max(losses)),
        "step": nice_ticks(0.0, max(steps) or 1.0, integer=True),
        "epoch": nice_ticks(0.0, max(epochs) or 1.0, integer=max(epochs) >= TARGET_TICKS),
    }

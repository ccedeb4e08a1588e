"""The metrics a sweep's best member may be chosen on, and which way each one is better.

Apart from :mod:`~airflow_dashscope.operators.sweep_table` because the selection operator
checks its ``metric`` when the DAG file is parsed, and the table (the ranking, its dataclass)
is needed only when the task runs.
"""

from __future__ import annotations

from typing import Literal

#: Training metrics read from the fine-tune result's ``training`` summary (lower is better).
LOSS_METRICS = ("best_val_loss", "final_val_loss", "final_loss", "best_loss")
#: The metric read from an evaluation's return value (higher is better).
EVALUATION = "evaluation"
METRICS = (*LOSS_METRICS, EVALUATION)
Direction = Literal["min", "max"]


def direction_of(metric: str) -> Direction:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    return "max" if metric == EVALUATION else "min"

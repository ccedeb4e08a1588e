"""CPT (continual pre-training) lines: ``{"text": "..."}``."""

from __future__ import annotations

from typing import Any

from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.tokens import TokenEstimate
from airflow_dashscope.training_data.values import json_type


def check_cpt_example(
    example: dict[str, Any], sink: ProblemCollector, estimate: TokenEstimate
) -> None:
    if "text" not in example:
        sink.error("text", 'missing (CPT lines are {"text": "..."})')
    else:
        text = example["text"]
        if not isinstance(text, str):
            sink.error("text", f"expected a string, got {json_type(text)}")
        elif not text or text.isspace():
            sink.error("text", "must not be empty")
        else:
            estimate.add_text(text)
    for key in example:
        if key != "text":
            sink.warning(key, "unknown field (CPT lines hold only 'text')")

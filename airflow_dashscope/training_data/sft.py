"""SFT lines (``sft``, ``efficient_sft``): ``{"messages": [...]}``, text or Qwen-VL content."""

from __future__ import annotations

from typing import Any

from airflow_dashscope.training_data.chatml import (
    ContentCheck,
    check_conversation,
    check_text_content,
)
from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.thinking import check_sft_thinking
from airflow_dashscope.training_data.tokens import TokenEstimate


class SftExampleCheck:
    """Checks one SFT line; ``content_check`` picks text or Qwen-VL content."""

    def __init__(
        self, *, thinking: bool = False, content_check: ContentCheck = check_text_content
    ) -> None:
        self.thinking = thinking
        self.content_check = content_check

    def __call__(
        self, example: dict[str, Any], sink: ProblemCollector, estimate: TokenEstimate
    ) -> None:
        if "messages" not in example:
            sink.error(
                "messages",
                'missing (SFT lines are {"messages": [...]})',
                hint='put the turns in a "messages" array of {"role": ..., "content": ...}',
            )
            return
        messages = example["messages"]
        roles = check_conversation(
            messages, "messages", sink, estimate, content_check=self.content_check
        )
        for key in example:
            if key != "messages":
                sink.warning(key, "unknown field (SFT lines hold only 'messages')")
        if roles is None or None in roles:
            return  # an invalid role is reported already; turn rules would only echo it
        if "assistant" not in roles:
            sink.error(
                "messages",
                "no assistant turn: there is nothing to train on",
                hint="add the answer the model should learn as an assistant turn",
            )
        elif roles[-1] == "user":
            sink.warning(f"messages[{len(roles) - 1}]", "a final user turn is not trained on")
        if self.thinking:
            check_sft_thinking(messages, roles, "messages", sink)

"""DPO lines (``dpo_full``, ``dpo_lora``): a prompt ending with a user turn, and the
preferred (``chosen``) and dispreferred (``rejected``) assistant answers to it."""

from __future__ import annotations

from typing import Any

from airflow_dashscope.training_data.chatml import (
    check_conversation,
    check_message,
    check_text_content,
)
from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.thinking import check_dpo_thinking
from airflow_dashscope.training_data.tokens import TokenEstimate

LOSS_WEIGHT_ONLY_CHOSEN = "in DPO data loss_weight is only supported on 'chosen'"
_KEYS = ("messages", "chosen", "rejected")


class DpoExampleCheck:
    """With ``thinking``, earlier assistant turns of the prompt must not hold <think>."""

    def __init__(self, *, thinking: bool = False) -> None:
        self.thinking = thinking

    def __call__(
        self, example: dict[str, Any], sink: ProblemCollector, estimate: TokenEstimate
    ) -> None:
        for key in _KEYS:
            if key not in example:
                sink.error(key, "missing (DPO lines hold messages, chosen and rejected)")
        for key in example:
            if key not in _KEYS:
                sink.warning(key, "unknown field (DPO lines hold messages, chosen, rejected)")
        if "messages" in example:
            self._check_prompt(example["messages"], sink, estimate)
        for key in ("chosen", "rejected"):
            if key in example:
                self._check_answer(example[key], key, sink, estimate)

    def _check_prompt(
        self, messages: object, sink: ProblemCollector, estimate: TokenEstimate
    ) -> None:
        roles = check_conversation(
            messages,
            "messages",
            sink,
            estimate,
            content_check=check_text_content,
            loss_weight_allowed=False,
            loss_weight_hint=LOSS_WEIGHT_ONLY_CHOSEN,
        )
        if roles is None or None in roles:
            return
        assert isinstance(messages, list)
        if roles[-1] != "user":
            sink.error(
                f"messages[{len(roles) - 1}].role",
                "DPO messages must end with a user turn (chosen and rejected answer it)",
            )
        if self.thinking:
            for index, role in enumerate(roles):
                content = messages[index].get("content")
                if role == "assistant" and isinstance(content, str) and "<think>" in content:
                    sink.error(
                        f"messages[{index}].content",
                        "earlier assistant turns must not contain <think> tags",
                    )

    def _check_answer(
        self, answer: object, key: str, sink: ProblemCollector, estimate: TokenEstimate
    ) -> None:
        role = check_message(
            answer,
            key,
            sink,
            estimate,
            content_check=check_text_content,
            loss_weight_allowed=key == "chosen",
            loss_weight_hint=LOSS_WEIGHT_ONLY_CHOSEN,
        )
        if not isinstance(answer, dict):
            return
        if role is not None and role != "assistant":
            sink.error(f"{key}.role", f"must be assistant, got {role}")
        content = answer.get("content")
        if isinstance(content, str):
            check_dpo_thinking(content, f"{key}.content", sink)

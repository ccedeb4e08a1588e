"""Checks on ``<think>`` blocks.

SFT data for thinking models: only the last assistant turn is trained, and only it may hold
a thinking block, written exactly ``<think>\\n{thinking}\\n</think>\\n\\n{answer}`` (the
document insists the newlines are kept). A last turn without any tag is allowed: it trains
the model to answer without thinking. DPO answers may hold ``<think>...</think>{answer}``
with no newline rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.tokens import content_text

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"
_SFT_THINKING = re.compile(r"<think>\n(.*)\n</think>\n\n(.*)", re.DOTALL)


def _has_tag(text: str) -> bool:
    return OPEN_TAG in text or CLOSE_TAG in text


def check_sft_thinking(
    messages: Sequence[object], roles: Sequence[str | None], path: str, sink: ProblemCollector
) -> None:
    """Only the last assistant turn may think, in the exact newline layout."""
    assistant_turns = [index for index, role in enumerate(roles) if role == "assistant"]
    if not assistant_turns:
        return
    *earlier, last = assistant_turns
    for index in earlier:
        message = messages[index]
        assert isinstance(message, dict)
        if _has_tag(content_text(message.get("content"))):
            sink.error(
                f"{path}[{index}].content",
                "only the last assistant turn may contain <think> tags",
            )
        if "loss_weight" in message:
            sink.warning(
                f"{path}[{index}].loss_weight",
                "ignored: for thinking models only the last assistant turn is trained",
            )
    last_message = messages[last]
    assert isinstance(last_message, dict)
    text = content_text(last_message.get("content"))
    if _has_tag(text):
        _check_sft_thinking_layout(text, f"{path}[{last}].content", sink)


def _check_sft_thinking_layout(text: str, path: str, sink: ProblemCollector) -> None:
    if text.count(OPEN_TAG) != 1 or text.count(CLOSE_TAG) != 1:
        sink.error(path, "must hold exactly one <think> and one </think>")
        return
    match = _SFT_THINKING.fullmatch(text)
    if match is None:
        if not text.startswith(OPEN_TAG + "\n"):
            problem = "must start with '<think>\\n' (the newline after <think> is required)"
        else:
            problem = "'</think>' must be preceded by '\\n' and followed by '\\n\\n'"
        sink.error(path, problem)
    elif not match.group(2).strip():
        sink.error(path, "no answer after '</think>\\n\\n'")


def check_dpo_thinking(text: str, path: str, sink: ProblemCollector) -> None:
    """A DPO answer may start with one ``<think>...</think>`` block, then the answer."""
    if not _has_tag(text):
        return
    if text.count(OPEN_TAG) != 1 or text.count(CLOSE_TAG) != 1:
        sink.error(path, "must hold exactly one <think> and one </think>")
    elif not text.lstrip().startswith(OPEN_TAG) or text.index(CLOSE_TAG) < text.index(OPEN_TAG):
        sink.error(path, "the <think>...</think> block must come first, before the answer")
    elif not text.split(CLOSE_TAG, 1)[1].strip():
        sink.error(path, "no answer after '</think>'")

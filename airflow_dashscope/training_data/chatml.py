"""ChatML message checks shared by SFT, SFT-thinking, Qwen-VL SFT and DPO data.

A message is ``{"role": ..., "content": ..., ["loss_weight": 0..1]}``. How ``content`` is
checked differs (a string for text models, an array of entries for Qwen-VL), so that check is
passed in; everything else (roles, order, OpenAI-only fields, unknown keys) is here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.tokens import TokenEstimate
from airflow_dashscope.training_data.values import is_number, json_type, short_repr

ROLES = ("system", "user", "assistant")

#: OpenAI fine-tuning fields the document says DashScope does not support.
UNSUPPORTED_OPENAI_FIELDS = {
    "name": "OpenAI's 'name' field is not supported by DashScope",
    "weight": "OpenAI's 'weight' field is not supported (all assistant turns are trained; "
    "use loss_weight)",
}

LOSS_WEIGHT_ONLY_ASSISTANT = "loss_weight is only supported on assistant turns"


class ContentCheck(Protocol):
    """Checks one message's ``content``; ``role`` is None when the role itself is invalid."""

    def __call__(
        self,
        content: object,
        role: str | None,
        path: str,
        sink: ProblemCollector,
        estimate: TokenEstimate,
    ) -> None: ...


def check_text_content(
    content: object,
    role: str | None,
    path: str,
    sink: ProblemCollector,
    estimate: TokenEstimate,
) -> None:
    """Text models: content is a non-empty string."""
    if not isinstance(content, str):
        sink.error(path, f"expected a string, got {json_type(content)}")
    elif not content or content.isspace():
        sink.error(path, "must not be empty", hint="write the turn's text, or delete the turn")
    else:
        estimate.add_text(content)


def check_loss_weight(value: object, path: str, sink: ProblemCollector) -> None:
    if not is_number(value) or not 0.0 <= value <= 1.0:  # type: ignore[operator]
        sink.error(path, f"must be a number from 0.0 to 1.0, got {short_repr(value)}")


def check_message(
    message: object,
    path: str,
    sink: ProblemCollector,
    estimate: TokenEstimate,
    *,
    content_check: ContentCheck,
    loss_weight_allowed: bool = True,
    loss_weight_hint: str = LOSS_WEIGHT_ONLY_ASSISTANT,
) -> str | None:
    """Check one message object; return its role when valid, else None."""
    if not isinstance(message, dict):
        sink.error(path, f"expected a message object, got {json_type(message)}")
        return None
    estimate.add_message()
    role = message.get("role")
    valid_role: str | None = None
    if "role" not in message:
        sink.error(f"{path}.role", "missing")
    elif role not in ROLES:
        sink.error(f"{path}.role", f"must be system, user or assistant, got {short_repr(role)}")
    else:
        valid_role = role
    if "content" in message:
        content_check(message["content"], valid_role, f"{path}.content", sink, estimate)
    else:
        sink.error(f"{path}.content", "missing")
    if len(message) > 2:
        _check_extra_fields(message, valid_role, path, sink, loss_weight_allowed, loss_weight_hint)
    return valid_role


def _check_extra_fields(
    message: dict[str, Any],
    role: str | None,
    path: str,
    sink: ProblemCollector,
    loss_weight_allowed: bool,
    loss_weight_hint: str,
) -> None:
    for key, value in message.items():
        if key in ("role", "content"):
            continue
        if key == "loss_weight":
            if loss_weight_allowed and role == "assistant":
                check_loss_weight(value, f"{path}.loss_weight", sink)
            elif role is not None:
                sink.error(f"{path}.loss_weight", loss_weight_hint)
        elif key in UNSUPPORTED_OPENAI_FIELDS:
            sink.error(f"{path}.{key}", UNSUPPORTED_OPENAI_FIELDS[key])
        else:
            sink.warning(f"{path}.{key}", "unknown field (ignored by the service, or rejected)")


def check_conversation(
    messages: object,
    path: str,
    sink: ProblemCollector,
    estimate: TokenEstimate,
    *,
    content_check: ContentCheck,
    loss_weight_allowed: bool = True,
    loss_weight_hint: str = LOSS_WEIGHT_ONLY_ASSISTANT,
) -> list[str | None] | None:
    """Check a ``messages`` array: each message, then the turn order.

    Order: an optional system message first, then user and assistant alternating, starting
    with user. Returns the roles (None for invalid ones) or None when not an array.
    """
    if not isinstance(messages, list):
        sink.error(path, f"expected an array of messages, got {json_type(messages)}")
        return None
    if not messages:
        sink.error(path, "must not be empty")
        return None
    roles = [
        check_message(
            message,
            f"{path}[{index}]",
            sink,
            estimate,
            content_check=content_check,
            loss_weight_allowed=loss_weight_allowed,
            loss_weight_hint=loss_weight_hint,
        )
        for index, message in enumerate(messages)
    ]
    if None not in roles:
        _check_turn_order(roles, path, sink)
    return roles


def _check_turn_order(roles: Sequence[str | None], path: str, sink: ProblemCollector) -> None:
    expected = "user"
    previous = "the start" if roles[0] != "system" else "the system message"
    for index, role in enumerate(roles):
        if role == "system":
            if index != 0:
                sink.error(f"{path}[{index}].role", "system is only allowed as the first message")
            continue
        if role != expected:
            sink.error(
                f"{path}[{index}].role",
                f"expected a {expected} turn after {previous}, got {role} "
                "(turns alternate user, assistant, user, ... after an optional system message)",
            )
            return  # one order error per example: the rest would only echo it
        previous = f"the {role} turn"
        expected = "assistant" if role == "user" else "user"

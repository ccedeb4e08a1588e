"""DPO rules (``dpo_full``/``dpo_lora``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .dataset_helpers import assert_only_problem, validate_lines


def dpo(**changes: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "messages": [{"role": "user", "content": "q"}],
        "chosen": {"role": "assistant", "content": "good"},
        "rejected": {"role": "assistant", "content": "bad"},
    }
    line.update(changes)
    return {k: v for k, v in line.items() if v is not None}


def run(tmp_path: Path, line: dict[str, Any], **options: Any) -> Any:
    return validate_lines(tmp_path, [dpo(), line], training_type="dpo_full", **options)


@pytest.mark.parametrize("key", ["messages", "chosen", "rejected"])
def test_required_keys(tmp_path: Path, key: str) -> None:
    assert_only_problem(run(tmp_path, dpo(**{key: None})), 2, key, "missing")


def test_messages_must_end_with_user(tmp_path: Path) -> None:
    line = dpo(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    assert_only_problem(run(tmp_path, line), 2, "messages[1].role", "must end with a user turn")


def test_messages_order_is_checked(tmp_path: Path) -> None:
    line = dpo(messages=[{"role": "assistant", "content": "a"}, {"role": "user", "content": "q"}])
    assert_only_problem(run(tmp_path, line), 2, "messages[0].role", "expected a user turn")


@pytest.mark.parametrize("key", ["chosen", "rejected"])
def test_answer_must_be_assistant(tmp_path: Path, key: str) -> None:
    line = dpo(**{key: {"role": "user", "content": "x"}})
    assert_only_problem(run(tmp_path, line), 2, f"{key}.role", "must be assistant")


@pytest.mark.parametrize("key", ["chosen", "rejected"])
def test_answer_content_must_be_a_string(tmp_path: Path, key: str) -> None:
    line = dpo(**{key: {"role": "assistant", "content": [{"text": "x"}]}})
    assert_only_problem(run(tmp_path, line), 2, f"{key}.content", "expected a string")


def test_answer_must_be_an_object(tmp_path: Path) -> None:
    assert_only_problem(run(tmp_path, dpo(chosen="good")), 2, "chosen", "expected a message object")


def test_loss_weight_on_chosen_is_checked(tmp_path: Path) -> None:
    line = dpo(chosen={"role": "assistant", "content": "x", "loss_weight": 3})
    assert_only_problem(run(tmp_path, line), 2, "chosen.loss_weight", "from 0.0 to 1.0")


def test_loss_weight_not_on_rejected(tmp_path: Path) -> None:
    line = dpo(rejected={"role": "assistant", "content": "x", "loss_weight": 0.5})
    assert_only_problem(
        run(tmp_path, line), 2, "rejected.loss_weight", "only supported on 'chosen'"
    )


def test_loss_weight_not_in_messages(tmp_path: Path) -> None:
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "loss_weight": 1.0},
        {"role": "user", "content": "q"},
    ]
    line = dpo(messages=messages)
    assert_only_problem(run(tmp_path, line), 2, "messages[1].loss_weight", "only supported on")


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("answer <think>x</think>", "must come first"),
        ("<think>x</think>   ", "no answer"),
        ("<think>x", "exactly one"),
    ],
)
def test_think_tags_in_answers(tmp_path: Path, content: str, text: str) -> None:
    line = dpo(chosen={"role": "assistant", "content": content})
    assert_only_problem(run(tmp_path, line), 2, "chosen.content", text)


def test_thinking_flag_forbids_think_in_prompt_turns(tmp_path: Path) -> None:
    messages = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "<think>x</think>a"},
        {"role": "user", "content": "q"},
    ]
    report = run(tmp_path, dpo(messages=messages), thinking=True)
    assert_only_problem(report, 2, "messages[1].content", "must not contain <think>")


def test_unknown_key_warns(tmp_path: Path) -> None:
    report = run(tmp_path, dpo(prompt="x"))
    assert_only_problem(report, 2, "prompt", "unknown field", severity="warning")

"""SFT data for thinking models (``thinking=True``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .dataset_helpers import assert_only_problem, chat, validate_lines

GOOD = "<think>\nreasoning\n</think>\n\nanswer"


def run(tmp_path: Path, last: str, earlier: str = "plain") -> object:
    line = chat(("user", "q1"), ("assistant", earlier), ("user", "q2"), ("assistant", last))
    return validate_lines(tmp_path, [line], thinking=True)


def test_good_layout_passes(tmp_path: Path) -> None:
    assert run(tmp_path, GOOD).problem_count == 0  # type: ignore[attr-defined]


def test_empty_thinking_block_passes(tmp_path: Path) -> None:
    assert run(tmp_path, "<think>\n\n</think>\n\nanswer").problem_count == 0  # type: ignore[attr-defined]


def test_thinking_rules_are_off_without_the_flag(tmp_path: Path) -> None:
    line = chat(("user", "q1"), ("assistant", GOOD), ("user", "q2"), ("assistant", "<think>x"))
    assert validate_lines(tmp_path, [line]).problem_count == 0


def test_intermediate_assistant_must_not_think(tmp_path: Path) -> None:
    report = run(tmp_path, GOOD, earlier=GOOD)
    assert_only_problem(report, 1, "messages[1].content", "only the last assistant turn")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("last", "text"),
    [
        ("<think>reasoning\n</think>\n\nanswer", "must start with '<think>\\n'"),
        ("<think>\nreasoning</think>\n\nanswer", "preceded by '\\n'"),
        ("<think>\nreasoning\n</think>\nanswer", "followed by '\\n\\n'"),
        ("<think>\nreasoning\n</think>\n\n", "no answer"),
        ("<think>\na\n</think>\n\n<think>\nb\n</think>\n\nc", "exactly one"),
        ("reasoning\n</think>\n\nanswer", "exactly one"),
        ("intro <think>\nreasoning\n</think>\n\nanswer", "must start with"),
    ],
)
def test_last_turn_layout(tmp_path: Path, last: str, text: str) -> None:
    report = run(tmp_path, last)
    assert_only_problem(report, 1, "messages[3].content", text)  # type: ignore[arg-type]


def test_loss_weight_on_earlier_turn_is_ignored_warning(tmp_path: Path) -> None:
    line = chat(("user", "q1"), ("assistant", "a"), ("user", "q2"), ("assistant", GOOD))
    line["messages"][1]["loss_weight"] = 1.0
    report = validate_lines(tmp_path, [line], thinking=True)
    assert_only_problem(report, 1, "messages[1].loss_weight", "ignored", severity="warning")


def test_vl_thinking_checks_the_text_entries(tmp_path: Path) -> None:
    line = {
        "messages": [
            {"role": "user", "content": [{"text": "q"}]},
            {"role": "assistant", "content": [{"text": "<think>x</think>answer"}]},
        ]
    }
    report = validate_lines(tmp_path, [line], thinking=True, vl=True)
    assert_only_problem(report, 1, "messages[1].content", "must start with")

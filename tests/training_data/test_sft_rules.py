"""SFT ChatML rules, one minimal bad example each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .dataset_helpers import GOOD_CHAT, assert_only_problem, chat, validate_lines


def one(tmp_path: Path, line: Any, **options: Any) -> Any:
    """Validate a good line then ``line``: problems must point at line 2."""
    return validate_lines(tmp_path, [GOOD_CHAT, line], **options)


def test_messages_missing(tmp_path: Path) -> None:
    report = one(tmp_path, {"conversation": []})
    assert report.error_count == 1
    problem = report.errors[0]
    assert (problem.line, problem.field) == (2, "messages")
    assert "missing" in problem.message


def test_messages_not_an_array(tmp_path: Path) -> None:
    assert_only_problem(one(tmp_path, {"messages": "hi"}), 2, "messages", "expected an array")


def test_messages_empty(tmp_path: Path) -> None:
    assert_only_problem(one(tmp_path, {"messages": []}), 2, "messages", "must not be empty")


def test_message_not_an_object(tmp_path: Path) -> None:
    line = {"messages": [{"role": "user", "content": "q"}, "answer"]}
    report = one(tmp_path, line)
    assert report.problems[0].field == "messages[1]"
    assert "expected a message object, got string" in report.problems[0].message


def test_unknown_role(tmp_path: Path) -> None:
    line = chat(("user", "q"), ("tool", "x"))
    report = one(tmp_path, line)
    assert_only_problem(report, 2, "messages[1].role", "must be system, user or assistant")


def test_role_missing(tmp_path: Path) -> None:
    line = {"messages": [{"role": "user", "content": "q"}, {"content": "a"}]}
    assert_only_problem(one(tmp_path, line), 2, "messages[1].role", "missing")


def test_content_missing(tmp_path: Path) -> None:
    line = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant"}]}
    assert_only_problem(one(tmp_path, line), 2, "messages[1].content", "missing")


@pytest.mark.parametrize("content", ["", "  \n"])
def test_content_empty(tmp_path: Path, content: str) -> None:
    line = chat(("user", "q"), ("assistant", content))
    assert_only_problem(one(tmp_path, line), 2, "messages[1].content", "must not be empty")


def test_content_not_a_string(tmp_path: Path) -> None:
    line = chat(("user", ["q"]), ("assistant", "a"))
    assert_only_problem(one(tmp_path, line), 2, "messages[0].content", "expected a string")


def test_system_only_first(tmp_path: Path) -> None:
    line = chat(("user", "q"), ("system", "s"), ("assistant", "a"))
    report = one(tmp_path, line)
    assert_only_problem(report, 2, "messages[1].role", "system is only allowed as the first")


def test_first_turn_must_be_user(tmp_path: Path) -> None:
    line = chat(("system", "s"), ("assistant", "a"), ("user", "q"), ("assistant", "a"))
    report = one(tmp_path, line)
    assert_only_problem(report, 2, "messages[1].role", "expected a user turn")


def test_turns_must_alternate(tmp_path: Path) -> None:
    line = chat(("user", "q"), ("user", "q2"), ("assistant", "a"))
    report = one(tmp_path, line)
    assert_only_problem(report, 2, "messages[1].role", "expected a assistant turn after the user")


def test_needs_an_assistant_turn(tmp_path: Path) -> None:
    line = chat(("system", "s"), ("user", "q"))
    assert_only_problem(one(tmp_path, line), 2, "messages", "no assistant turn")


def test_trailing_user_turn_is_a_warning(tmp_path: Path) -> None:
    line = chat(("user", "q"), ("assistant", "a"), ("user", "q2"))
    assert_only_problem(one(tmp_path, line), 2, "messages[2]", "not trained", severity="warning")


def test_loss_weight_only_on_assistant(tmp_path: Path) -> None:
    line = chat(("user", "q"), ("assistant", "a"))
    line["messages"][0]["loss_weight"] = 0.5
    report = one(tmp_path, line)
    assert_only_problem(report, 2, "messages[0].loss_weight", "only supported on assistant")


@pytest.mark.parametrize("weight", [1.5, -0.1, "0.5", True, None])
def test_loss_weight_range_and_type(tmp_path: Path, weight: Any) -> None:
    line = chat(("user", "q"), ("assistant", "a"))
    line["messages"][1]["loss_weight"] = weight
    report = one(tmp_path, line)
    assert_only_problem(report, 2, "messages[1].loss_weight", "from 0.0 to 1.0")


@pytest.mark.parametrize("weight", [0, 0.0, 1, 0.25])
def test_loss_weight_bounds_are_inclusive(tmp_path: Path, weight: float) -> None:
    line = chat(("user", "q"), ("assistant", "a"))
    line["messages"][1]["loss_weight"] = weight
    assert one(tmp_path, line).problem_count == 0


@pytest.mark.parametrize(("field", "text"), [("name", "'name'"), ("weight", "'weight'")])
def test_openai_fields_rejected(tmp_path: Path, field: str, text: str) -> None:
    line = chat(("user", "q"), ("assistant", "a"))
    line["messages"][1][field] = 1
    assert_only_problem(one(tmp_path, line), 2, f"messages[1].{field}", text)


def test_unknown_message_field_is_a_warning(tmp_path: Path) -> None:
    line = chat(("user", "q"), ("assistant", "a"))
    line["messages"][0]["tool_calls"] = []
    report = one(tmp_path, line)
    assert_only_problem(report, 2, "messages[0].tool_calls", "unknown field", severity="warning")


def test_unknown_top_level_field_is_a_warning(tmp_path: Path) -> None:
    report = one(tmp_path, chat(("user", "q"), ("assistant", "a"), id=7))
    assert_only_problem(report, 2, "id", "unknown field", severity="warning")


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    lines = [GOOD_CHAT, {"messages": []}, GOOD_CHAT, chat(("user", "q"), ("assistant", ""))]
    report = validate_lines(tmp_path, lines)
    assert [(p.line, p.field) for p in report.problems] == [
        (2, "messages"),
        (4, "messages[1].content"),
    ]

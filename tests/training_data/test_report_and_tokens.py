"""The report: cap, exception message, summary, JSON shape; the token heuristic; duck typing."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from airflow_dashscope.training_data import TrainingDataError, tokens, validate_training_file
from airflow_dashscope.training_data.tokens import estimate_text_tokens

from .dataset_helpers import GOOD_CHAT, chat, validate_lines, write_lines


def test_problems_are_capped_but_all_counted(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, ["[]"] * 250, max_problems=100)
    assert len(report.problems) == 100 and report.error_count == 250
    assert report.truncated
    assert report.problems[-1].line == 100
    assert "150 more problem(s)" in report.summary()


def test_raise_if_invalid_lists_file_line_field_and_total(tmp_path: Path) -> None:
    lines = [GOOD_CHAT, *([chat(("user", "q"), ("assistant", ""))] * 30)]
    report = validate_lines(tmp_path, lines)
    with pytest.raises(TrainingDataError) as caught:
        report.raise_if_invalid()
    message = str(caught.value)
    assert f"{report.file}:2: messages[1].content: must not be empty" in message
    assert "30 error(s)" in message
    assert message.count("must not be empty") == 10
    assert isinstance(caught.value, ValueError) and caught.value.report is report


def test_warnings_do_not_raise(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [chat(("user", "q"), ("assistant", "a"), id=1)])
    assert report.ok and report.warning_count == 1
    report.raise_if_invalid()


def test_summary_and_json(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [GOOD_CHAT, "{"], n_epochs=3)
    summary = report.summary()
    assert "INVALID" in summary and "examples=1" in summary and "x3 epochs" in summary
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["problems"][0]["line"] == 2
    assert data["stats"]["estimated_billed_tokens"] == 3 * data["stats"]["estimated_tokens"]


def test_token_heuristic() -> None:
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("abcd") == 1
    assert estimate_text_tokens("abcde") == 2
    assert estimate_text_tokens("你好世界") == 4
    assert estimate_text_tokens("你好 abcd") == 2 + 2  # 2 CJK + ceil(5 / 4)


def test_stats_count_examples_turns_characters_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Qwen's tokenizer, the heuristic counts (test_token_counting.py: with it)."""
    monkeypatch.setattr(tokens, "qwen_encoding", lambda: None)
    line = chat(("system", "s" * 8), ("user", "你好"), ("assistant", "abcd"))
    report = validate_lines(tmp_path, [line, line], n_epochs=2)
    stats = report.stats
    assert (stats.examples, stats.turns, stats.characters) == (2, 6, 28)
    per_example = 2 + 3 + 3 * 4  # CJK, ceil(12 / 4) other, 4 per message
    assert stats.estimated_tokens == 2 * per_example
    assert stats.max_example_tokens == per_example
    assert stats.estimated_billed_tokens == 4 * per_example


def test_billed_tokens_need_epochs(tmp_path: Path) -> None:
    assert validate_lines(tmp_path, [GOOD_CHAT]).stats.estimated_billed_tokens is None


class FakeObjectStoragePath:
    """Like Airflow's ObjectStoragePath: has ``open`` and a ``str`` with a protocol."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.modes: list[str] = []

    def open(self, mode: str = "r") -> io.BytesIO:
        self.modes.append(mode)
        return io.BytesIO(self.data)

    def __str__(self) -> str:
        return "s3://bucket/train.jsonl"


def test_duck_typed_path() -> None:
    fake = FakeObjectStoragePath(json.dumps(GOOD_CHAT).encode() + b"\n[]\n")
    report = validate_training_file(fake)
    assert fake.modes == ["rb"]
    assert report.file == "s3://bucket/train.jsonl" and report.problems[0].line == 2


def test_pathlike_and_str(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [GOOD_CHAT])
    assert validate_training_file(str(path)).ok and validate_training_file(path).ok


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"training_type": "rlhf"}, "training_type must be one of"),
        ({"training_type": "cpt", "thinking": True}, "thinking"),
        ({"n_epochs": 0}, "n_epochs"),
        ({"n_epochs": True}, "n_epochs"),
    ],
)
def test_bad_options_raise(tmp_path: Path, options: dict[str, object], text: str) -> None:
    path = write_lines(tmp_path, [GOOD_CHAT])
    with pytest.raises(ValueError, match=text):
        validate_training_file(path, **options)  # type: ignore[arg-type]


def test_excel_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(ValueError, match="only JSONL"):
        validate_training_file(path)


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        validate_training_file(tmp_path / "nope.jsonl")


def test_package_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, airflow_dashscope.training_data;"
        "print(any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_report_puts_where_first_then_what_then_how(tmp_path: Path) -> None:
    """Airflow's log viewer does not wrap: each problem's lines start with what matters."""
    report = validate_lines(tmp_path, [GOOD_CHAT, "{", {"prompt": "q"}], n_epochs=2)
    lines = report.summary().splitlines()
    assert "INVALID" in lines[0]
    where = f"  {report.file}:2: <line>: invalid JSON: "
    at = next(i for i, line in enumerate(lines) if line.startswith(where))
    assert (
        lines[at + 1]
        == "      fix: write each example as one whole JSON object {...} on its own line"
    )
    missing = next(i for i, line in enumerate(lines) if f"{report.file}:3: messages:" in line)
    assert lines[missing + 1].startswith('      fix: put the turns in a "messages" array')
    # The figures come after the problems, each line short enough to read without scrolling.
    assert missing < next(i for i, line in enumerate(lines) if "examples=" in line)
    assert all(len(line) <= 100 for line in lines if report.file not in line)
    with pytest.raises(TrainingDataError) as caught:
        report.raise_if_invalid()
    assert "\n      fix: write each example" in str(caught.value)


def test_a_hint_is_in_the_json_only_when_there_is_one(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, ["{", {"text": ""}], training_type="cpt")
    first, second = json.loads(json.dumps(report.to_dict()))["problems"]
    assert first["hint"].startswith("write each example as one whole JSON object")
    assert "hint" not in second

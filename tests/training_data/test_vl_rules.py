"""Qwen-VL content rules, on JSONL files (``vl=True``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .dataset_helpers import assert_only_problem, validate_lines


def vl_line(user_content: list[Any], system: Any = None) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages += [
        {"role": "user", "content": user_content},
        {"role": "assistant", "content": [{"text": "answer"}]},
    ]
    return {"messages": messages}


def run(tmp_path: Path, line: dict[str, Any]) -> Any:
    return validate_lines(tmp_path, [line], vl=True)


def test_system_content_must_be_an_array(tmp_path: Path) -> None:
    report = run(tmp_path, vl_line([{"text": "q"}], system="be nice"))
    assert_only_problem(report, 1, "messages[0].content", 'must be an array [{"text"')


def test_string_user_content_warns(tmp_path: Path) -> None:
    line = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    report = run(tmp_path, line)
    assert report.ok and report.warning_count == 2
    assert report.problems[0].field == "messages[0].content"


def test_content_not_array(tmp_path: Path) -> None:
    assert_only_problem(run(tmp_path, vl_line(7)), 1, "messages[0].content", "expected an array")  # type: ignore[arg-type]


def test_entry_not_object(tmp_path: Path) -> None:
    report = run(tmp_path, vl_line(["q"]))
    assert_only_problem(report, 1, "messages[0].content[0]", "expected a content entry object")


@pytest.mark.parametrize("entry", [{}, {"text": "a", "image": "b.png"}, {"audio": "x.wav"}])
def test_entry_holds_exactly_one_kind(tmp_path: Path, entry: dict[str, Any]) -> None:
    report = run(tmp_path, vl_line([entry]))
    find = [p for p in report.errors if p.field == "messages[0].content[0]"]
    assert find and "exactly one of" in find[0].message


def test_image_in_system_or_assistant(tmp_path: Path) -> None:
    line = vl_line([{"text": "q"}], system=[{"image": "a.png"}])
    assert_only_problem(run(tmp_path, line), 1, "messages[0].content[0].image", "only hold text")


@pytest.mark.parametrize(
    ("image", "text"),
    [
        ("folder/a.png", "bare file name, not a path"),
        ("a b.png", "must use only ASCII"),
        ("图片.png", "must use only ASCII"),
        ("a.gif", "unsupported image format"),
        (3, "expected a file name string"),
        ("", "expected a file name string"),
    ],
)
def test_image_reference(tmp_path: Path, image: Any, text: str) -> None:
    report = run(tmp_path, vl_line([{"image": image}]))
    assert_only_problem(report, 1, "messages[0].content[0].image", text)


@pytest.mark.parametrize("value", [0, -5, 2.5, "200", True])
def test_resized_sizes_are_positive_ints(tmp_path: Path, value: Any) -> None:
    report = run(tmp_path, vl_line([{"image": "a.png", "resized_width": value}]))
    assert_only_problem(report, 1, "messages[0].content[0].resized_width", "positive integer")


def test_video_file_fields(tmp_path: Path) -> None:
    entry = {"video": "v.mp4", "fps": 0, "video_start": -1}
    report = run(tmp_path, vl_line([entry]))
    assert [(p.field, p.message.split(",")[0]) for p in report.problems] == [
        ("messages[0].content[0].fps", "must be a positive number"),
        ("messages[0].content[0].video_start", "must be a number >= 0"),
    ]


def test_video_end_after_start(tmp_path: Path) -> None:
    report = run(tmp_path, vl_line([{"video": "v.mp4", "video_start": 3.0, "video_end": 1.0}]))
    assert_only_problem(report, 1, "messages[0].content[0].video_end", "greater than video_start")


def test_video_frames(tmp_path: Path) -> None:
    report = run(tmp_path, vl_line([{"video": ["0.jpg", "x/1.jpg"], "sample_fps": -2}]))
    assert {p.field for p in report.errors} == {
        "messages[0].content[0].video[1]",
        "messages[0].content[0].sample_fps",
    }


def test_empty_frame_list(tmp_path: Path) -> None:
    report = run(tmp_path, vl_line([{"video": []}]))
    assert_only_problem(report, 1, "messages[0].content[0].video", "must not be empty")


def test_fps_on_frame_list_is_wrong_mode(tmp_path: Path) -> None:
    report = run(tmp_path, vl_line([{"video": ["0.jpg"], "fps": 2.0}]))
    assert_only_problem(report, 1, "messages[0].content[0].fps", "not supported on a video frames")


def test_unknown_entry_key_warns(tmp_path: Path) -> None:
    report = run(tmp_path, vl_line([{"text": "q", "lang": "en"}]))
    assert_only_problem(report, 1, "messages[0].content[0].lang", "unknown", severity="warning")


def test_vl_only_for_sft(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sft"):
        validate_lines(tmp_path, [vl_line([{"text": "q"}])], vl=True, training_type="dpo_full")

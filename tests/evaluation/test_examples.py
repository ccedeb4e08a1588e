"""Reading held-out data: bad lines named before any call, object store URLs, streaming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_dashscope.evaluation.examples import as_source, check_heldout, iter_examples
from airflow_dashscope.evaluation.results import read_results, results_location, write_results
from airflow_dashscope.exceptions import InvalidTrainingDataError


def line(*messages: tuple[str, str]) -> str:
    return json.dumps({"messages": [{"role": r, "content": c} for r, c in messages]})


GOOD = line(("system", "Be brief."), ("user", "Capital of France?"), ("assistant", "Paris."))


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "heldout.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_good_file_is_measured_and_streamed(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, line(("user", "2+2?"), ("assistant", "4")))
    held = check_heldout(str(path))
    assert held.examples == 2 and held.prompt_tokens > 0 and len(held.sha256) == 64
    examples = list(iter_examples(str(path)))
    assert [e.line for e in examples] == [1, 2]
    assert examples[0].reference == "Paris." and examples[0].question == "Capital of France?"
    assert [m["role"] for m in examples[0].prompt] == ["system", "user"]


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ("{not json", ":2: <line>"),
        (line(("user", "Hi"), ("user", "?")), ":2: messages"),
        (line(("user", "Hi"), ("assistant", "Hello"), ("user", "More?")), ":2: messages[2].role"),
        (json.dumps({"prompt": "x"}), ":2: messages"),
    ],
)
def test_a_bad_line_names_file_line_field_and_fix(tmp_path: Path, bad: str, where: str) -> None:
    path = write(tmp_path, GOOD, bad, GOOD)
    with pytest.raises(InvalidTrainingDataError) as invalid:
        check_heldout(str(path))
    message = str(invalid.value)
    assert f"{path}{where}" in message and "fix:" in message, message


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    with pytest.raises(InvalidTrainingDataError, match="no examples"):
        check_heldout(str(path))


def test_an_object_store_url_is_read_and_the_results_go_beside_it(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    source = as_source(f"file://{path}")
    assert not isinstance(source, str)
    held = check_heldout(source)
    assert held.examples == 1 and held.sha256 == check_heldout(str(path)).sha256
    location = results_location(source, held.sha256)
    assert str(location) == f"file://{path}.eval-{held.sha256[:8]}.jsonl"
    write_results(location, "d", {"m": "x"}, [{"line": 1, "answers": {"m": "Paris."}}])
    assert read_results(location, "d") == {1: {"line": 1, "answers": {"m": "Paris."}}}
    assert read_results(location, "another digest") == {}
    assert results_location(source, "d", "/tmp/x.jsonl") == "/tmp/x.jsonl"

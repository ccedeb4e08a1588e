"""Training tokens as the billing page's formula counts them, with Qwen's real tokenizer.

Expected counts come from the official SDK's own ``QwenTokenizer`` applied to hand-written
ChatML strings, never from the provider's renderer (nor from the emulator's).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.training_data import tokens, validate_training_file
from airflow_dashscope.training_data.qwen_tokenizer import (
    CHUNK_CHARS,
    chunks,
    qwen_encoding,
    vocabulary_path,
)

from .dataset_helpers import chat, validate_lines

qwen_tokenizer = pytest.importorskip("dashscope.tokenizers.qwen_tokenizer")

SFT = chat(("system", "You are terse."), ("user", "What is 2+2?"), ("assistant", "4"))
SFT_TEXT = (
    "<|im_start|>system\nYou are terse.<|im_end|>\n"
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
    "<|im_start|>assistant\n4<|im_end|>\n"
)
DPO = {
    "messages": [{"role": "user", "content": "Pick a colour"}],
    "chosen": {"role": "assistant", "content": "Blue."},
    "rejected": {"role": "assistant", "content": "No."},
}
VL = chat(
    ("user", [{"text": "描述这张图"}, {"image": "a.jpg"}]), ("assistant", [{"text": "一只猫。"}])
)


@pytest.fixture(scope="module")
def sdk_count() -> Any:
    path = vocabulary_path()
    assert path is not None, "the dashscope SDK ships qwen.tiktoken"
    tokenizer = qwen_tokenizer.QwenTokenizer(str(path))
    return lambda text: len(tokenizer.encode(text))


def count(example: dict[str, Any], model: str = "qwen3-8b") -> int:
    return tokens.count_example(example, model, qwen_encoding())


def test_sft_is_chatml_per_message(sdk_count: Any) -> None:
    assert count(SFT) == sdk_count(SFT_TEXT) == 27


def test_qwen25_templates_add_their_default_system_message(sdk_count: Any) -> None:
    no_system = chat(("user", "What is 2+2?"), ("assistant", "4"))
    body = SFT_TEXT.split("<|im_end|>\n", 1)[1]
    system = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    assert count(no_system, "qwen2.5-7b-instruct") == sdk_count(
        f"<|im_start|>system\n{system}<|im_end|>\n{body}"
    )
    assert count(no_system, "qwen3-8b") == sdk_count(body)
    # A system message of the data's own replaces the default.
    assert count(SFT, "qwen2.5-7b-instruct") == sdk_count(SFT_TEXT)


def test_dpo_cpt_and_vl_shapes(sdk_count: Any) -> None:
    prompt = "<|im_start|>user\nPick a colour<|im_end|>\n"
    assert count(DPO) == sdk_count(f"{prompt}<|im_start|>assistant\nBlue.<|im_end|>\n") + sdk_count(
        f"{prompt}<|im_start|>assistant\nNo.<|im_end|>\n"
    )
    text = "Qwen is a family of models."
    assert count({"text": text}) == sdk_count(f"{text}<|endoftext|>")
    assert count(VL, "qwen3-vl-8b-instruct") == sdk_count(
        "<|im_start|>user\n描述这张图<|im_end|>\n<|im_start|>assistant\n一只猫。<|im_end|>\n"
    )


def test_the_validator_counts_with_the_tokenizer(tmp_path: Path, sdk_count: Any) -> None:
    report = validate_lines(tmp_path, [SFT, SFT], n_epochs=3)
    assert report.stats.counted_by == tokens.BY_TOKENIZER
    assert report.stats.estimated_tokens == 2 * sdk_count(SFT_TEXT)
    assert report.stats.estimated_billed_tokens == 6 * sdk_count(SFT_TEXT)
    assert "tokens counted by: Qwen tokenizer" in report.summary()
    qwen25 = validate_training_file(tmp_path / "data.jsonl", model="qwen2.5-7b-instruct")
    assert qwen25.stats.estimated_tokens == report.stats.estimated_tokens  # has a system turn


def test_long_text_is_encoded_in_chunks_cut_at_line_starts(sdk_count: Any) -> None:
    text = ("word " * 12_000 + "\n") * 3 + "x" * (CHUNK_CHARS + 10)
    pieces = chunks(text)
    assert "".join(pieces) == text and all(len(p) <= CHUNK_CHARS for p in pieces)
    assert all(p.startswith("\n") for p in pieces[1:3])
    assert count({"text": text}) == sdk_count(text + "<|endoftext|>")


def test_the_encoding_is_built_once_and_never_imports_the_sdk() -> None:
    assert qwen_encoding() is qwen_encoding()
    code = (
        "import sys\n"
        "import airflow_dashscope.training_data as td\n"
        "assert 'tiktoken' not in sys.modules, 'imported at import time'\n"
        "from airflow_dashscope.training_data.qwen_tokenizer import qwen_encoding\n"
        "assert qwen_encoding() is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dashscope'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_tokenizer_the_heuristic_counts_the_same_sequences(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 4 per message; CJK 1 each; other text 4 characters a token, rounded up per sequence.
    # Prompt + chosen: ceil(18 / 4) + 2 x 4; prompt + rejected: ceil(16 / 4) + 2 x 4.
    assert tokens.count_example(DPO) == (5 + 8) + (4 + 8)
    assert tokens.count_example({"text": "abcdefgh"}) == 2 + 1  # + <|endoftext|>
    monkeypatch.setattr(tokens, "qwen_encoding", lambda: None)
    report = validate_lines(tmp_path, [DPO], training_type="dpo_full")
    assert report.stats.estimated_tokens == tokens.count_example(DPO)
    assert report.stats.counted_by == tokens.BY_HEURISTIC

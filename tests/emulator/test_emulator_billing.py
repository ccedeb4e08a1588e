"""Training tokens and the fee's token count (model-training-and-deployment-billing.md).

Expected counts come from the official SDK's own tokenizer (``QwenTokenizer``) applied to
hand-written ChatML strings, not from the emulator's renderer.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from airflow_dashscope.emulator import RunningEmulator, tokens
from airflow_dashscope.emulator.learning import PRESET_EXAMPLE_TOKENS

qwen_tokenizer = pytest.importorskip("dashscope.tokenizers.qwen_tokenizer")

SFT = {
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
    ]
}
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
VL = {
    "messages": [
        {"role": "user", "content": [{"text": "描述这张图"}, {"image": "a.jpg"}]},
        {"role": "assistant", "content": [{"text": "一只猫。"}]},
    ]
}


@pytest.fixture(scope="module")
def sdk_count() -> Any:
    path = tokens.vocabulary_path()
    assert path is not None, "the dashscope SDK ships qwen.tiktoken"
    tokenizer = qwen_tokenizer.QwenTokenizer(str(path))
    return lambda text: len(tokenizer.encode(text))


def test_special_tokens_are_single_tokens(sdk_count: Any) -> None:
    for marker in ("<|im_start|>", "<|im_end|>", "<|endoftext|>"):
        assert tokens.count_text(marker) == 1 == sdk_count(marker)


def test_sft_example_is_chatml_without_a_default_system_for_qwen3(sdk_count: Any) -> None:
    assert tokens.count_example(SFT, "qwen3-8b") == sdk_count(SFT_TEXT) == 27
    no_system = {"messages": SFT["messages"][1:]}
    expected = sdk_count(SFT_TEXT.split("<|im_end|>\n", 1)[1])
    assert tokens.count_example(no_system, "qwen3-8b") == expected


def test_qwen25_templates_add_their_default_system_message(sdk_count: Any) -> None:
    no_system = {"messages": SFT["messages"][1:]}
    body = SFT_TEXT.split("<|im_end|>\n", 1)[1]
    system = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    expected = sdk_count(f"<|im_start|>system\n{system}<|im_end|>\n{body}")
    assert tokens.count_example(no_system, "qwen2.5-7b-instruct") == expected


def test_dpo_cpt_and_vl_shapes(sdk_count: Any) -> None:
    prompt = "<|im_start|>user\nPick a colour<|im_end|>\n"
    assert tokens.count_example(DPO, "qwen3-8b") == sdk_count(
        f"{prompt}<|im_start|>assistant\nBlue.<|im_end|>\n"
    ) + sdk_count(f"{prompt}<|im_start|>assistant\nNo.<|im_end|>\n")
    cpt = {"text": "Qwen is a family of models."}
    assert tokens.count_example(cpt) == sdk_count("Qwen is a family of models.<|endoftext|>")
    assert tokens.count_example(VL, "qwen3-vl-8b-instruct") == sdk_count(
        "<|im_start|>user\n描述这张图<|im_end|>\n<|im_start|>assistant\n一只猫。<|im_end|>\n"
    )


def test_without_the_vocabulary_the_heuristic_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_loaded", True)
    monkeypatch.setattr(tokens, "_encoding", None)
    # 4 markers, then "user\nWhat is 2+2?\nassistant\n4\n" (30 characters) / 4, rounded up
    assert tokens.count_example({"messages": SFT["messages"][1:]}, "qwen3-8b") == 4 + 8
    assert tokens.count_text("一只猫 cat") == 3 + 1  # one per CJK character, 4 chars a token


# ------------------------------------------------------------------------------ over the wire
def _job(client: httpx.Client, emu: RunningEmulator, lines: list[Any], **hyper: Any) -> Any:
    content = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines).encode()
    r = client.post("/files", files=[("files", ("t.jsonl", content))])
    file_id = r.json()["data"]["uploaded_files"][0]["file_id"]
    body = {"model": "qwen3-8b", "training_file_ids": [file_id], "hyper_parameters": hyper}
    job_id = client.post("/fine-tunes", json=body).json()["output"]["job_id"]
    emu.advance(60)
    return client.get(f"/fine-tunes/{job_id}").json()["output"]


def test_usage_is_tokens_times_epochs(
    emu: RunningEmulator, client: httpx.Client, sdk_count: Any
) -> None:
    job = _job(client, emu, [SFT, SFT, DPO], n_epochs=2)
    assert job["status"] == "SUCCEEDED"
    per_pass = 2 * sdk_count(SFT_TEXT) + tokens.count_example(DPO, "qwen3-8b")
    assert job["usage"] == per_pass * 2
    logs = client.get(f"/fine-tunes/{job['job_id']}/logs", params={"line": 1000}).json()
    assert any(line.endswith(f"training usage {per_pass * 2}") for line in logs["output"]["logs"])


def test_mixed_in_data_is_billed(emu: RunningEmulator, client: httpx.Client) -> None:
    """ "按训练数据量的10%/5%/15%随机抽取混合": 10 examples x 0.3 = 3 preset examples."""
    plain = _job(client, emu, [SFT] * 10, n_epochs=3)
    mixed = _job(
        client,
        emu,
        [SFT] * 10,
        n_epochs=3,
        data_augmentation=True,
        augmentation_types="dialogue_cn,general_purpose_cn,nlp",
        augmentation_ratio="0.1,0.05,0.15",
    )
    assert mixed["usage"] - plain["usage"] == 3 * PRESET_EXAMPLE_TOKENS * 3


def test_canceled_job_bills_nothing(emu: RunningEmulator, client: httpx.Client) -> None:
    r = client.post("/files", files=[("files", ("t.jsonl", json.dumps(SFT).encode()))])
    file_id = r.json()["data"]["uploaded_files"][0]["file_id"]
    job_id = client.post(
        "/fine-tunes", json={"model": "qwen3-8b", "training_file_ids": [file_id]}
    ).json()["output"]["job_id"]
    client.post(f"/fine-tunes/{job_id}/cancel")
    emu.advance(60)
    job = client.get(f"/fine-tunes/{job_id}").json()["output"]
    assert (job["status"], job["usage"]) == ("CANCELED", 0)

from __future__ import annotations

import asyncio

import pytest

from airflow_dashscope.client import (
    AsyncDashScopeClient,
    DashScopeClient,
    InvalidParameterError,
    NotFoundError,
)
from airflow_dashscope.emulator.runner import RunningEmulator

from .conftest import Call, config_for

MESSAGES = [{"role": "user", "content": "Who are you?"}]


def test_generate_message_and_text_formats(api: Call) -> None:
    reply = api("generate", "qwen3-8b", messages=MESSAGES)
    assert "qwen3-8b" in reply.text and reply.finish_reason == "stop"
    assert reply.usage.total_tokens == reply.usage.input_tokens + reply.usage.output_tokens
    text = api("generate", "qwen3-8b", prompt="Hello", parameters={"result_format": "text"})
    assert text.output.text and "qwen3-8b" in text.text


@pytest.mark.parametrize(
    ("model", "form"), [("qwen3-8b", "text"), ("qwen3.6-flash-2026-04-16", "message")]
)
def test_a_model_answers_in_its_default_form_and_both_read_as_text(
    api: Call, model: str, form: str
) -> None:
    """model-deployment-quick-start.md: qwen3-8b answers ``{"text": ..., "choices": null}``
    when no result_format is asked; newer families answer in the message form."""
    reply = api("generate", model, messages=MESSAGES, parameters={"result_format": None})
    assert reply.result_format == form and model in reply.text
    assert reply.finish_reason == "stop"


def test_chat_completion(api: Call) -> None:
    completion = api("chat_completion", "qwen3-8b", MESSAGES, temperature=0.1)
    assert completion.id.startswith("chatcmpl-") and "qwen3-8b" in completion.text
    assert completion.usage.prompt_tokens is not None


#: error-code.md lists both: 400 InvalidParameter "Model not exist." and 404 ModelNotFound.
UNKNOWN_MODEL = (InvalidParameterError, NotFoundError)


def test_unknown_model_is_refused(api: Call) -> None:
    with pytest.raises(UNKNOWN_MODEL, match=r"(?i)not exist|not found") as caught:
        api("generate", "nope", messages=MESSAGES)
    assert caught.value.code in ("InvalidParameter", "ModelNotFound")
    with pytest.raises(UNKNOWN_MODEL):
        api("chat_completion", "nope", MESSAGES)


def test_streaming_sync(dashscope_emulator: RunningEmulator) -> None:
    with DashScopeClient(config_for(dashscope_emulator)) as client:
        whole = client.generate("qwen3-8b", messages=MESSAGES).text
        chunks = list(client.stream_generate("qwen3-8b", messages=MESSAGES))
        assert len(chunks) > 1 and "".join(c.text for c in chunks) == whole
        assert chunks[-1].finish_reason == "stop"
        deltas = list(client.stream_chat_completion("qwen3-8b", MESSAGES))
        text = "".join((c.choices[0].delta or {}).get("content") or "" for c in deltas)
        assert text == whole
        with pytest.raises(UNKNOWN_MODEL):
            list(client.stream_generate("nope", messages=MESSAGES))


def test_streaming_async(dashscope_emulator: RunningEmulator) -> None:
    async def collect() -> tuple[str, list[str]]:
        async with AsyncDashScopeClient(config_for(dashscope_emulator)) as client:
            whole = (await client.generate("qwen3-8b", messages=MESSAGES)).text
            parts = [c.text async for c in client.stream_generate("qwen3-8b", messages=MESSAGES)]
            deltas = [
                (c.choices[0].delta or {}).get("content") or ""
                async for c in client.stream_chat_completion("qwen3-8b", MESSAGES)
                if c.choices
            ]
            assert "".join(deltas) == whole
            return whole, parts

    whole, parts = asyncio.run(collect())
    assert len(parts) > 1 and "".join(parts) == whole


def test_compatible_mode_lists_models(api: Call) -> None:
    """``GET /compatible-mode/v1/models``: the OpenAI list shape."""
    models = api("list_models")
    assert models and all(m.id for m in models)
    assert "qwen3-8b" in {m.id for m in models}


def test_stream_chunks_read_whatever_nulls_they_carry(dashscope_emulator: RunningEmulator) -> None:
    """Compatible-mode chunks carry ``usage: null`` and ``system_fingerprint: null`` until the
    last; the text of the stream is the text of the deltas."""
    with DashScopeClient(config_for(dashscope_emulator)) as client:
        whole = client.chat_completion("qwen3-8b", MESSAGES).text
        chunks = list(client.stream_chat_completion("qwen3-8b", MESSAGES))
    assert "".join(chunk.text for chunk in chunks) == whole
    assert all(chunk.system_fingerprint is None for chunk in chunks)

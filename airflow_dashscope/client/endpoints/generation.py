"""Model invocation: native generation and OpenAI-compatible chat completions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_dashscope.client.models import ChatCompletion, CompatibleModel, GenerationResult
from airflow_dashscope.client.request import ApiRequest, Flow, single

GENERATION_PATH = "/services/aigc/text-generation/generation"


def generation_request(
    model: str,
    *,
    messages: Sequence[Mapping[str, Any]] | None = None,
    prompt: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    stream: bool = False,
) -> ApiRequest:
    """The native generation call; asks for the ``message`` result format unless told.

    Without ``result_format`` (pass ``None``) a model answers in its default form, ``text``
    for some (the deployment quick start shows one), ``message`` for newer families:
    :class:`GenerationResult` reads both.
    """
    if (messages is None) == (prompt is None):
        raise ValueError("Give exactly one of messages= or prompt=.")
    asked: dict[str, Any] = {"result_format": "message", **(parameters or {})}
    # ``result_format=None`` sends none: the model then answers in its default form.
    params = {key: value for key, value in asked.items() if value is not None}
    model_input: dict[str, Any] = (
        {"messages": [dict(m) for m in messages]} if messages is not None else {"prompt": prompt}
    )
    headers = {"X-DashScope-SSE": "enable", "Accept": "text/event-stream"} if stream else {}
    if stream:
        params.setdefault("incremental_output", True)
    return ApiRequest(
        "POST",
        GENERATION_PATH,
        json={"model": model, "input": model_input, "parameters": params},
        headers=headers,
    )


def generate(
    model: str,
    *,
    messages: Sequence[Mapping[str, Any]] | None = None,
    prompt: str | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Flow[GenerationResult]:
    """Invoke a model (a base model id or a deployment's ``deployed_model``)."""
    request = generation_request(model, messages=messages, prompt=prompt, parameters=parameters)
    return single(request, GenerationResult.model_validate)


def chat_completion_request(
    model: str, messages: Sequence[Mapping[str, Any]], *, stream: bool = False, **options: Any
) -> ApiRequest:
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages], **options}
    if stream:
        body["stream"] = True
    return ApiRequest("POST", "/chat/completions", json=body, root="compatible")


def chat_completion(
    model: str, messages: Sequence[Mapping[str, Any]], **options: Any
) -> Flow[ChatCompletion]:
    """The OpenAI-compatible ``/chat/completions`` (``options``: temperature, max_tokens...)."""
    return single(
        chat_completion_request(model, messages, **options), ChatCompletion.model_validate
    )


def list_models() -> Flow[list[CompatibleModel]]:
    """The models of the OpenAI-compatible ``GET /models`` (``data`` of an ``object: list``)."""

    def parse(body: Any) -> list[CompatibleModel]:
        items = body.get("data") if isinstance(body, dict) else None
        return [CompatibleModel.model_validate(item) for item in items or []]

    return single(ApiRequest("GET", "/models", root="compatible"), parse)

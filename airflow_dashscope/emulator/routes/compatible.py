"""OpenAI-compatible mode: ``/compatible-mode/v1/chat/completions`` (plain and streamed) and
``/compatible-mode/v1/models``. Errors take the OpenAI shape (see ``errors.error_body``)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .. import catalog
from ..clock import estimate_tokens
from ..errors import ApiError
from ..replies import answer, chunks, prompt_of, served_base
from ..web import emulator_of, json_body, region_of, scope_of

router = APIRouter()


def _model_not_found(model: Any) -> ApiError:
    """error-code.md, 404-ModelNotFound/model_not_found."""
    return ApiError(
        404,
        "ModelNotFound",
        f"The model `{model}` does not exist or you do not have access to it.",
    )


@router.get("/models")
async def list_models(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    scope = scope_of(request)
    region = region_of(request)
    names = sorted(set(catalog.training_table(region)) | catalog.MU_MODELS)
    with emu.session():
        names += sorted(
            d.deployed_model
            for d in emu.store.deployments
            if (d.region, d.workspace_id) == scope and d.status == "RUNNING"
        )
    created = int(emu.clock.now())
    data = [{"id": n, "object": "model", "created": created, "owned_by": "system"} for n in names]
    return JSONResponse({"object": "list", "data": data})


@router.post("/chat/completions", response_model=None)
async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
    body = await json_body(request)
    messages = body.get("messages")
    if messages == []:
        raise ApiError(400, "invalid_request_error", "[] is too short - 'messages'")
    if not isinstance(messages, list):
        raise ApiError(400, "invalid_request_error", "messages must be a non-empty list")
    emu = emulator_of(request)
    model = body.get("model")
    with emu.session():
        base = served_base(emu.store, scope_of(request), model)
    if base is None:
        raise _model_not_found(model)
    last, in_tokens = prompt_of(messages, None)
    text = answer(emu.store, scope_of(request), str(model), last)
    out_tokens = estimate_tokens(len(text))
    head = {
        "id": f"chatcmpl-{uuid.uuid4()}",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
    }
    usage = {
        "prompt_tokens": in_tokens,
        "completion_tokens": out_tokens,
        "total_tokens": in_tokens + out_tokens,
    }
    if not body.get("stream"):
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": "stop",
            "logprobs": None,
        }
        return JSONResponse(
            {**head, "object": "chat.completion", "choices": [choice], "usage": usage}
        )
    options = body.get("stream_options") or {}
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))

    def chunk(delta: dict[str, Any] | None, finish: str | None, **extra: Any) -> str:
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
        )
        payload = {**head, "object": "chat.completion.chunk", "choices": choices, "usage": None}
        payload.update(extra)
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def frames() -> Iterator[str]:
        yield chunk({"role": "assistant", "content": ""}, None)
        for piece in chunks(text):
            yield chunk({"content": piece}, None)
        yield chunk({"content": ""}, "stop")
        if include_usage:
            yield chunk(None, None, usage=usage)
        yield "data: [DONE]\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")

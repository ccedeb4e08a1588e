"""Text generation: native ``/api/v1/services/aigc/text-generation/generation`` and the
OpenAI-compatible ``/compatible-mode/v1/chat/completions``.

The reply is deterministic, names the model that answered and echoes the last user message,
so a test can tell which deployment served it. Only catalog base models and RUNNING
deployments of the caller's workspace answer.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from airflow_dashscope import catalog

from .clock import estimate_tokens
from .errors import ApiError, bad_request, new_request_id
from .web import emulator_of, json_body, workspace_of

router = APIRouter()
compatible_router = APIRouter()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return "" if content is None else str(content)


def _check_model(request: Request, model: Any) -> str:
    if not isinstance(model, str) or not model:
        raise bad_request("Missing model")
    if catalog.is_known_base_model(model):
        return model
    emu = emulator_of(request)
    with emu.session():
        dep = emu.store.deployments.get(model)
        if dep and dep.workspace_id == workspace_of(request) and dep.status == "RUNNING":
            return model
    raise ApiError(404, "ModelNotFound", "Model not exist.")


def _prompt(messages: list[Any] | None, prompt: Any) -> tuple[str, int]:
    """(last user text, input token estimate)."""
    if messages:
        texts = [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
        users = [
            _text_of(m.get("content"))
            for m in messages
            if isinstance(m, dict) and m.get("role") == "user"
        ]
        last = users[-1] if users else (texts[-1] if texts else "")
        return last, sum(estimate_tokens(len(t)) for t in texts) or 1
    text = _text_of(prompt)
    return text, estimate_tokens(len(text)) or 1


def reply_for(model: str, last_user: str) -> str:
    echo = last_user.strip().replace("\n", " ")
    if len(echo) > 200:
        echo = echo[:200] + "..."
    return f"Hello from {model} (DashScope emulator). You said: {echo}"


def _chunks(text: str, parts: int = 4) -> list[str]:
    """Split into at least ``parts`` pieces (fewer only for very short text)."""
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _sse(n: int, payload: dict[str, Any], event: str = "result", status: int = 200) -> str:
    data = json.dumps(payload, ensure_ascii=False)
    return f"id:{n}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{data}\n\n"


def _wants_sse(request: Request) -> bool:
    return request.headers.get(
        "x-dashscope-sse", ""
    ).lower() == "enable" or "text/event-stream" in request.headers.get("accept", "")


@router.post("/services/aigc/text-generation/generation", response_model=None)
async def generation(request: Request) -> JSONResponse | StreamingResponse:
    stream = _wants_sse(request)
    try:
        body = await json_body(request)
        model = _check_model(request, body.get("model"))
        inp = body.get("input") or {}
        params = body.get("parameters") or {}
        if not isinstance(inp, dict) or not isinstance(params, dict):
            raise bad_request("input and parameters must be objects")
        messages = inp.get("messages")
        if not messages and not inp.get("prompt"):
            raise bad_request("Either input.messages or input.prompt is required")
        if messages is not None and not isinstance(messages, list):
            raise bad_request("input.messages must be a list")
        result_format = params.get("result_format") or "message"
        if result_format not in ("message", "text"):
            raise bad_request(f"Invalid result_format: {result_format}")
    except ApiError as exc:
        if not stream:
            raise
        error = {"code": exc.code, "message": exc.message, "request_id": new_request_id()}
        return StreamingResponse(
            iter([_sse(1, error, "error", exc.status)]), media_type="text/event-stream"
        )
    last, in_tokens = _prompt(messages, inp.get("prompt"))
    text = reply_for(model, last)
    request_id = new_request_id()

    def envelope(content: str, finish: str, out_tokens: int) -> dict[str, Any]:
        out: dict[str, Any]
        if result_format == "text":
            out = {"text": content, "finish_reason": finish}
        else:
            out = {
                "choices": [
                    {
                        "finish_reason": finish,
                        "message": {"role": "assistant", "content": content},
                    }
                ]
            }
        return {
            "output": out,
            "usage": {
                "input_tokens": in_tokens,
                "output_tokens": out_tokens,
                "total_tokens": in_tokens + out_tokens,
            },
            "request_id": request_id,
        }

    if not stream:
        return JSONResponse(envelope(text, "stop", estimate_tokens(len(text))))
    incremental = bool(params.get("incremental_output", False))

    def frames() -> Iterator[str]:
        pieces = _chunks(text)
        sent = ""
        for n, piece in enumerate(pieces, start=1):
            sent += piece
            last_piece = n == len(pieces)
            yield _sse(
                n,
                envelope(
                    piece if incremental else sent,
                    "stop" if last_piece else "null",
                    estimate_tokens(len(sent)),
                ),
            )

    return StreamingResponse(frames(), media_type="text/event-stream")


@compatible_router.post("/chat/completions", response_model=None)
async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
    body = await json_body(request)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "invalid_request_error", "messages must be a non-empty list")
    model = _check_model(request, body.get("model"))
    last, in_tokens = _prompt(messages, None)
    text = reply_for(model, last)
    out_tokens = estimate_tokens(len(text))
    completion_id = f"chatcmpl-{uuid.uuid4()}"
    created = int(time.time())
    usage = {
        "prompt_tokens": in_tokens,
        "completion_tokens": out_tokens,
        "total_tokens": in_tokens + out_tokens,
    }
    if not body.get("stream"):
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": usage,
                "system_fingerprint": None,
            }
        )
    options = body.get("stream_options") or {}
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))

    def chunk(delta: dict[str, Any], finish: str | None) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    def frames() -> Iterator[str]:
        yield chunk({"role": "assistant", "content": ""}, None)
        for piece in _chunks(text):
            yield chunk({"content": piece}, None)
        yield chunk({}, "stop")
        if include_usage:
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            yield f"data: {json.dumps(payload)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")

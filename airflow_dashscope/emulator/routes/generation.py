"""Native text generation: ``/api/v1/services/aigc/text-generation/generation``, plain and SSE.

Without ``result_format`` the answer takes the form the model defaults to
(``Settings.text_default_models``): the deployment quick start shows a deployed qwen3-8b
answering ``{"text": ..., "finish_reason": "stop"}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from ..clock import estimate_tokens
from ..errors import ApiError, bad_request, new_request_id
from ..replies import answer, chunks, prompt_of, served_base, sse
from ..web import emulator_of, json_body, scope_of

router = APIRouter()


def _wants_sse(request: Request) -> bool:
    return request.headers.get(
        "x-dashscope-sse", ""
    ).lower() == "enable" or "text/event-stream" in request.headers.get("accept", "")


def _read(request: Request, body: dict[str, Any]) -> tuple[str, str, dict[str, Any], Any]:
    """(model, result format, parameters, messages) of a valid call, else the documented
    error (error-code.md: "[] is too short", "Model not exist.", ...)."""
    model = body.get("model")
    if not model:
        raise ApiError(
            400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.'
        )
    inp = body.get("input")
    if inp is None:
        raise ApiError(
            400, "BadRequest.EmptyInput", "Required input parameter missing from request."
        )
    params = body.get("parameters") or {}
    if not isinstance(inp, dict) or not isinstance(params, dict):
        raise bad_request("input and parameters must be objects")
    messages = inp.get("messages")
    if messages is not None and not isinstance(messages, list):
        raise bad_request("input.messages must be a list")
    if messages == []:
        raise bad_request("[] is too short")
    if not messages and not inp.get("prompt"):
        raise bad_request('Either "prompt" or "messages" must exist and cannot both be none')
    emu = emulator_of(request)
    with emu.session():
        base = served_base(emu.store, scope_of(request), model)
    if base is None:
        raise bad_request("Model not exist.")
    result_format = params.get("result_format") or emu.settings.default_result_format(base)
    if result_format not in ("message", "text"):
        raise bad_request(f"Invalid result_format: {result_format}")
    return str(model), result_format, params, messages


@router.post("/services/aigc/text-generation/generation", response_model=None)
async def generation(request: Request) -> JSONResponse | StreamingResponse:
    stream = _wants_sse(request)
    request_id = new_request_id()
    body: dict[str, Any] = {}
    try:
        body = await json_body(request)
        model, result_format, params, messages = _read(request, body)
    except ApiError as exc:
        if not stream:
            raise
        error = {"code": exc.code, "message": exc.message, "request_id": request_id}
        return StreamingResponse(
            iter([sse(1, error, "error", exc.status)]), media_type="text/event-stream"
        )
    last, in_tokens = prompt_of(messages, body["input"].get("prompt"))
    text = answer(emulator_of(request).store, scope_of(request), model, last)

    def envelope(content: str, finish: str, out_tokens: int) -> dict[str, Any]:
        out: dict[str, Any]
        if result_format == "text":
            out = {"text": content, "finish_reason": finish}
        else:
            message = {"role": "assistant", "content": content}
            out = {"choices": [{"finish_reason": finish, "message": message}]}
        usage = {
            "input_tokens": in_tokens,
            "output_tokens": out_tokens,
            "total_tokens": in_tokens + out_tokens,
        }
        return {"output": out, "usage": usage, "request_id": request_id}

    if not stream:
        return JSONResponse(envelope(text, "stop", estimate_tokens(len(text))))
    incremental = bool(params.get("incremental_output", False))

    def frames() -> Iterator[str]:
        pieces = chunks(text)
        sent = ""
        for n, piece in enumerate(pieces, start=1):
            sent += piece
            finish = "stop" if n == len(pieces) else "null"
            content = piece if incremental else sent
            yield sse(n, envelope(content, finish, estimate_tokens(len(sent))))

    return StreamingResponse(frames(), media_type="text/event-stream")

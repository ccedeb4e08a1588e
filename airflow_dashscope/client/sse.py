"""Server-sent events: a pure line decoder and the mapping of events to results.

DashScope frames look like ``id:1`` / ``event:result`` / ``:HTTP_STATUS/200`` /
``data:{...}`` then a blank line; an error arrives as ``event:error``. The OpenAI-compatible
stream is ``data: {...}`` frames ending with ``data: [DONE]``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow_dashscope.client.errors import UnexpectedAnswerError
from airflow_dashscope.client.models import ChatCompletion, GenerationResult
from airflow_dashscope.client.transport import api_error


@dataclass
class ServerSentEvent:
    event: str = "message"
    data: str = ""
    id: str | None = None
    status: int | None = None


@dataclass
class SSEDecoder:
    """Feed it lines; it returns each event completed by a blank line."""

    _pending: ServerSentEvent = field(default_factory=ServerSentEvent)
    _data: list[str] = field(default_factory=list)

    def feed(self, line: str) -> ServerSentEvent | None:
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            comment = line[1:].strip()
            if comment.startswith("HTTP_STATUS/"):
                status = comment.split("/", 1)[1]
                self._pending.status = int(status) if status.isdigit() else None
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._pending.event = value
        elif name == "id":
            self._pending.id = value
        return None

    def flush(self) -> ServerSentEvent | None:
        return self._dispatch()

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._pending = ServerSentEvent()
            return None
        event = self._pending
        event.data = "\n".join(self._data)
        self._pending, self._data = ServerSentEvent(), []
        return event


def _payload(event: ServerSentEvent) -> Any:
    try:
        return json.loads(event.data)
    except json.JSONDecodeError as exc:
        message = f"DashScope sent a stream event that is not JSON: {exc}"
        raise UnexpectedAnswerError(message) from exc


def generation_chunk(event: ServerSentEvent) -> GenerationResult:
    """One streamed native chunk; an ``error`` event raises the matching API error."""
    payload = _payload(event)
    if event.event == "error" or (event.status is not None and event.status >= 400):
        raise api_error(event.status or 500, {}, payload)
    return GenerationResult.model_validate(payload)


def chat_completion_chunk(event: ServerSentEvent) -> ChatCompletion | None:
    """One OpenAI-compatible chunk, or None at ``[DONE]``."""
    if event.data.strip() == "[DONE]":
        return None
    payload = _payload(event)
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        raise api_error(event.status or 500, {}, payload)
    return ChatCompletion.model_validate(payload)


def fine_tune_event(event: ServerSentEvent) -> str:
    """One event of ``GET /fine-tunes/{id}/stream``: its ``output`` text (a log line, or the
    closing ``status: ...``); an ``error`` event raises the matching API error."""
    payload = _payload(event)
    if event.event == "error" or (event.status is not None and event.status >= 400):
        raise api_error(event.status or 500, {}, payload)
    output = payload.get("output") if isinstance(payload, dict) else payload
    return output if isinstance(output, str) else json.dumps(output)

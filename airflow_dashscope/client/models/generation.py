"""Model invocation results, native and OpenAI-compatible."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from airflow_dashscope.client.models.base import DashScopeModel, NullableList


class Message(DashScopeModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class GenerationChoice(DashScopeModel):
    finish_reason: str | None = None
    message: Message | None = None


class GenerationUsage(DashScopeModel):
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None


class GenerationOutput(DashScopeModel):
    """Either form: ``text`` (``{"text": ..., "finish_reason": "stop", "choices": null}``,
    what the deployment quick start shows a deployed model answer) or ``message``
    (``choices[].message``)."""

    text: str | None = None
    finish_reason: str | None = None
    choices: Annotated[list[GenerationChoice], NullableList] = Field(default_factory=list)


class GenerationResult(DashScopeModel):
    """A native generation answer (or one streamed chunk of it), in either result form."""

    request_id: str | None = None
    output: GenerationOutput
    usage: GenerationUsage | None = None

    @property
    def text(self) -> str:
        """The reply text, whichever result format was asked for."""
        if self.output.text is not None:
            return self.output.text
        for choice in self.output.choices:
            if choice.message and isinstance(choice.message.content, str):
                return choice.message.content
        return ""

    @property
    def result_format(self) -> str:
        """``text`` or ``message``: the form the service answered in."""
        return "text" if self.output.text is not None else "message"

    @property
    def finish_reason(self) -> str | None:
        if self.output.finish_reason:
            return self.output.finish_reason
        return self.output.choices[0].finish_reason if self.output.choices else None


class ChatCompletionChoice(DashScopeModel):
    index: int = 0
    message: Message | None = None
    delta: dict[str, Any] | None = None
    finish_reason: str | None = None


class ChatCompletionUsage(DashScopeModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class ChatCompletion(DashScopeModel):
    """An OpenAI-compatible ``chat.completion``, or one ``chat.completion.chunk`` of a
    stream (whose ``usage`` and ``system_fingerprint`` are ``null`` until the last)."""

    id: str
    object: str | None = None
    created: int | None = None
    model: str | None = None
    system_fingerprint: str | None = None
    choices: Annotated[list[ChatCompletionChoice], NullableList] = Field(default_factory=list)
    usage: ChatCompletionUsage | None = None

    @property
    def text(self) -> str:
        """The reply text of a completion, or the text delta of a chunk."""
        for choice in self.choices:
            if choice.message and isinstance(choice.message.content, str):
                return choice.message.content
            content = (choice.delta or {}).get("content")
            if isinstance(content, str):
                return content
        return ""


class CompatibleModel(DashScopeModel):
    """An item of the OpenAI-compatible ``GET /models``."""

    id: str
    object: str | None = None
    created: int | None = None
    owned_by: str | None = None

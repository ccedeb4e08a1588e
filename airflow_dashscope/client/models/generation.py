"""Model invocation results, native and OpenAI-compatible."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from airflow_dashscope.client.models.base import DashScopeModel


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
    #: ``result_format="text"``
    text: str | None = None
    finish_reason: str | None = None
    #: ``result_format="message"``
    choices: list[GenerationChoice] = Field(default_factory=list)


class GenerationResult(DashScopeModel):
    """A native generation answer (or one streamed chunk of it)."""

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
    """An OpenAI-compatible ``chat.completion``."""

    id: str
    object: str | None = None
    created: int | None = None
    model: str | None = None
    choices: list[ChatCompletionChoice] = Field(default_factory=list)
    usage: ChatCompletionUsage | None = None

    @property
    def text(self) -> str:
        for choice in self.choices:
            if choice.message and isinstance(choice.message.content, str):
                return choice.message.content
        return ""

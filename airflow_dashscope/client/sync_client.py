"""The synchronous client: runs the shared endpoint flows over a pooled ``httpx.Client``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx

from airflow_dashscope.client import sse, transport
from airflow_dashscope.client.api import DashScopeAPI
from airflow_dashscope.client.base import ClientBase, httpx_options, log_retry, resolve_config
from airflow_dashscope.client.config import ClientConfig
from airflow_dashscope.client.endpoints.fine_tunes import fine_tune_stream_request
from airflow_dashscope.client.endpoints.generation import (
    chat_completion_request,
    generation_request,
)
from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.client.models import ChatCompletion, GenerationResult
from airflow_dashscope.client.request import ApiRequest, Backoff, Flow

T = TypeVar("T")


class DashScopeClient(ClientBase, DashScopeAPI):
    """Blocking DashScope client. Use as a context manager, or call :meth:`close`."""

    _http: httpx.Client

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        workspace: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = resolve_config(config, api_key, base_url, workspace)
        self._http = httpx.Client(transport=transport, **httpx_options(self.config))  # type: ignore[arg-type]

    def run(self, flow: Flow[T]) -> T:
        """Drive an endpoint flow: send each request it yields, return what it returns."""
        try:
            step = next(flow)
            while True:
                if isinstance(step, Backoff):
                    step = flow.send(self._backoff(step))
                    continue
                try:
                    body = self.send(step)
                except DashScopeError as error:
                    step = flow.throw(error)
                else:
                    step = flow.send(body)
        except StopIteration as stop:
            return stop.value

    def _backoff(self, backoff: Backoff) -> bool:
        """Wait as the retry policy says before a flow's next try; False when none is left."""
        delay = self.config.retry.delay(backoff.attempt, None)
        if delay is None:
            return False
        time.sleep(delay)
        return True

    def send(self, request: ApiRequest) -> Any:
        """One call with the retry policy; returns the decoded JSON body."""
        attempt = 0
        while True:
            try:
                with self._exchange(request) as response:
                    response.read()
                    return transport.interpret(response, self.config)
            except DashScopeError as error:
                delay = transport.retry_delay(self.config, request, error, attempt)
                if delay is None:
                    raise
                log_retry(request, error, delay, attempt)
                time.sleep(delay)
                attempt += 1

    @contextlib.contextmanager
    def _exchange(self, request: ApiRequest) -> Iterator[httpx.Response]:
        with contextlib.ExitStack() as stack:
            http_request = self._build(stack, request)
            with transport.transport_errors(self.config):
                response = self._http.send(http_request, stream=True)
            try:
                with transport.transport_errors(self.config):
                    yield response
            finally:
                response.close()

    def _events(self, request: ApiRequest) -> Iterator[sse.ServerSentEvent]:
        with self._exchange(request) as response:
            if not response.is_success:
                response.read()
                transport.interpret(response, self.config)
            decoder = sse.SSEDecoder()
            for line in response.iter_lines():
                if (event := decoder.feed(line)) is not None:
                    yield event
            if (event := decoder.flush()) is not None:
                yield event

    def _stream(
        self, request: ApiRequest, decode: Callable[[sse.ServerSentEvent], T | None]
    ) -> Iterator[T]:
        """The decoded events of a streamed call; ``decode`` returning None ends it."""
        for event in self._events(request):
            item = decode(event)
            if item is None:
                return
            yield item

    def stream_generate(
        self,
        model: str,
        *,
        messages: Sequence[Mapping[str, Any]] | None = None,
        prompt: str | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> Iterator[GenerationResult]:
        """Native generation over SSE: yields each chunk as it arrives."""
        request = generation_request(
            model, messages=messages, prompt=prompt, parameters=parameters, stream=True
        )
        return self._stream(request, sse.generation_chunk)

    def stream_chat_completion(
        self, model: str, messages: Sequence[Mapping[str, Any]], **options: Any
    ) -> Iterator[ChatCompletion]:
        """OpenAI-compatible streaming: yields each ``chat.completion.chunk``."""
        request = chat_completion_request(model, messages, stream=True, **options)
        return self._stream(request, sse.chat_completion_chunk)

    def stream_fine_tune(self, job_id: str) -> Iterator[str]:
        """Follow a job live (``GET /fine-tunes/{id}/stream``): each new log line as it is
        written, then ``status: <final status>`` once the job has ended."""
        return self._stream(fine_tune_stream_request(job_id), sse.fine_tune_event)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DashScopeClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

"""The asyncio client: runs the shared endpoint flows over a pooled ``httpx.AsyncClient``.

Nothing here blocks the event loop, so triggers in the shared triggerer loop can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx

from airflow_dashscope.client import sse, transport
from airflow_dashscope.client.api import DashScopeAPI
from airflow_dashscope.client.base import ClientBase, httpx_options, log_retry, resolve_config
from airflow_dashscope.client.config import ClientConfig
from airflow_dashscope.client.connections import lean_transport
from airflow_dashscope.client.endpoints.fine_tunes import fine_tune_stream_request
from airflow_dashscope.client.endpoints.generation import (
    chat_completion_request,
    generation_request,
)
from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.client.models import ChatCompletion, GenerationResult
from airflow_dashscope.client.request import ApiRequest, Backoff, Flow

T = TypeVar("T")
#: Plain GETs kept built (one per watched job or deployment); beyond, the cache restarts.
GET_CACHE_SIZE = 20_000


class AsyncDashScopeClient(ClientBase, DashScopeAPI):
    """Asyncio DashScope client. Use as an async context manager, or await :meth:`aclose`."""

    _http: httpx.AsyncClient

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        workspace: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = resolve_config(config, api_key, base_url, workspace)
        options = httpx_options(self.config)
        if transport is None:
            transport = lean_transport(
                options["verify"],
                max_connections=self.config.max_connections,
                keepalive_expiry=self.config.keepalive_expiry,
            )
        self._http = httpx.AsyncClient(transport=transport, **options)  # type: ignore[arg-type]
        # Requests beyond the pool wait here (FIFO, O(1)), not in httpx's pool queue, whose
        # bookkeeping is rescanned for every queued request each time a request comes or goes.
        self._slots = asyncio.Semaphore(self.config.max_connections)
        self._gets: dict[tuple[str, str], httpx.Request] = {}

    async def run(self, flow: Flow[T]) -> T:
        """Drive an endpoint flow: send each request it yields, return what it returns."""
        try:
            step = next(flow)
            while True:
                if isinstance(step, Backoff):
                    step = flow.send(await self._backoff(step))
                    continue
                try:
                    body = await self.send(step)
                except DashScopeError as error:
                    step = flow.throw(error)
                else:
                    step = flow.send(body)
        except StopIteration as stop:
            return stop.value

    async def _backoff(self, backoff: Backoff) -> bool:
        """Wait as the retry policy says before a flow's next try; False when none is left."""
        delay = self.config.retry.delay(backoff.attempt, None)
        if delay is None:
            return False
        await asyncio.sleep(delay)
        return True

    async def send(self, request: ApiRequest) -> Any:
        """One call with the retry policy; returns the decoded JSON body."""
        attempt = 0
        while True:
            try:
                return await self._send_once(request)
            except DashScopeError as error:
                delay = transport.retry_delay(self.config, request, error, attempt)
                if delay is None:
                    raise
                log_retry(request, error, delay, attempt)
                await asyncio.sleep(delay)
                attempt += 1

    async def _send_once(self, request: ApiRequest) -> Any:
        """One exchange, read whole. A poll comes here: no context-manager objects, no
        upload stack, and a plain GET's request built once (see :meth:`_built_get`)."""
        async with self._slots:
            built = self._built_get(request)
            if built is not None:
                response = await self._read(built)
            else:
                with contextlib.ExitStack() as stack:
                    response = await self._read(self._build(stack, request))
        return transport.interpret(response, self.config)

    async def _read(self, http_request: httpx.Request) -> httpx.Response:
        try:
            return await self._http.send(http_request)
        except httpx.TransportError as exc:
            raise transport.transport_error_of(exc, self.config) from exc

    @contextlib.asynccontextmanager
    async def _exchange(self, request: ApiRequest) -> AsyncIterator[httpx.Response]:
        async with self._slots:
            with contextlib.ExitStack() as stack:
                http_request = self._build(stack, request)
                with transport.transport_errors(self.config):
                    response = await self._http.send(http_request, stream=True)
                try:
                    with transport.transport_errors(self.config):
                        yield response
                finally:
                    await response.aclose()

    def _built_get(self, request: ApiRequest) -> httpx.Request | None:
        """A plain GET's httpx request, built once and sent again on every poll.

        Parsing and merging the URL and headers was a tenth of a poll's CPU. A bodiless
        GET's request is never changed by sending it, so one serves every send.
        """
        if request.method != "GET" or request.params or request.headers or request.uploads:
            return None
        key = (request.root, request.path)
        built = self._gets.get(key)
        if built is None:
            if len(self._gets) >= GET_CACHE_SIZE:
                self._gets.clear()
            with contextlib.ExitStack() as stack:
                built = self._gets[key] = self._build(stack, request)
        return built

    async def _events(self, request: ApiRequest) -> AsyncIterator[sse.ServerSentEvent]:
        async with self._exchange(request) as response:
            if not response.is_success:
                await response.aread()
                transport.interpret(response, self.config)
            decoder = sse.SSEDecoder()
            async for line in response.aiter_lines():
                if (event := decoder.feed(line)) is not None:
                    yield event
            if (event := decoder.flush()) is not None:
                yield event

    async def _stream(
        self, request: ApiRequest, decode: Callable[[sse.ServerSentEvent], T | None]
    ) -> AsyncIterator[T]:
        """The decoded events of a streamed call; ``decode`` returning None ends it."""
        async for event in self._events(request):
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
    ) -> AsyncIterator[GenerationResult]:
        """Native generation over SSE: yields each chunk as it arrives."""
        request = generation_request(
            model, messages=messages, prompt=prompt, parameters=parameters, stream=True
        )
        return self._stream(request, sse.generation_chunk)

    def stream_chat_completion(
        self, model: str, messages: Sequence[Mapping[str, Any]], **options: Any
    ) -> AsyncIterator[ChatCompletion]:
        """OpenAI-compatible streaming: yields each ``chat.completion.chunk``."""
        request = chat_completion_request(model, messages, stream=True, **options)
        return self._stream(request, sse.chat_completion_chunk)

    def stream_fine_tune(self, job_id: str) -> AsyncIterator[str]:
        """Follow a job live (``GET /fine-tunes/{id}/stream``): each new log line as it is
        written, then ``status: <final status>`` once the job has ended."""
        return self._stream(fine_tune_stream_request(job_id), sse.fine_tune_event)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncDashScopeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

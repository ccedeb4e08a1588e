"""The API surface, declared once: every endpoint flow becomes a method of both clients.

``Endpoint`` is a descriptor: on a :class:`DashScopeClient` it gives a method returning the
result, on an :class:`AsyncDashScopeClient` one returning an awaitable of it. The typing is
exact for both (``ParamSpec`` plus an overloaded ``__get__``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from airflow_dashscope.client.endpoints import deployments, files, fine_tunes, generation
from airflow_dashscope.client.request import Flow

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")


class AsyncRunner(Protocol):
    """What the async client is to an endpoint: it drives a flow to an awaitable result (a
    protocol, so this module need not import the clients that subclass it)."""

    async def run(self, flow: Flow[R]) -> R: ...


class SyncRunner(Protocol):
    """What the sync client is to an endpoint: it drives a flow to its result."""

    def run(self, flow: Flow[R]) -> R: ...


class Endpoint(Generic[P, T]):
    def __init__(self, flow: Callable[P, Flow[T]]) -> None:
        self.flow = flow
        self.__doc__ = flow.__doc__

    @overload
    def __get__(self, client: None, owner: type) -> Endpoint[P, T]: ...

    @overload
    def __get__(self, client: AsyncRunner, owner: type) -> Callable[P, Coroutine[Any, Any, T]]: ...

    @overload
    def __get__(self, client: SyncRunner, owner: type) -> Callable[P, T]: ...

    def __get__(self, client: Any, owner: type) -> Any:
        if client is None:
            return self
        flow = self.flow

        @functools.wraps(flow)
        def method(*args: Any, **kwargs: Any) -> Any:
            return client.run(flow(*args, **kwargs))

        return method


class DashScopeAPI:
    """Every endpoint of the fine-tuning API, shared by the sync and the async client."""

    # Files
    upload_file = Endpoint(files.upload_file)
    upload_files = Endpoint(files.upload_files)
    list_files = Endpoint(files.list_files)
    list_files_page = Endpoint(files.list_files_page)
    get_file = Endpoint(files.get_file)
    delete_file = Endpoint(files.delete_file)
    # Fine-tune jobs
    create_fine_tune = Endpoint(fine_tunes.create_fine_tune)
    get_fine_tune = Endpoint(fine_tunes.get_fine_tune)
    list_fine_tunes = Endpoint(fine_tunes.list_fine_tunes)
    list_fine_tunes_page = Endpoint(fine_tunes.list_fine_tunes_page)
    find_fine_tunes_by_name = Endpoint(fine_tunes.find_fine_tunes_by_name)
    cancel_fine_tune = Endpoint(fine_tunes.cancel_fine_tune)
    delete_fine_tune = Endpoint(fine_tunes.delete_fine_tune)
    get_fine_tune_logs = Endpoint(fine_tunes.get_fine_tune_logs)
    list_checkpoints = Endpoint(fine_tunes.list_checkpoints)
    get_checkpoint = Endpoint(fine_tunes.get_checkpoint)
    export_checkpoint = Endpoint(fine_tunes.export_checkpoint)
    exported_model_id = Endpoint(fine_tunes.exported_model_id)
    # Deployments
    create_deployment = Endpoint(deployments.create_deployment)
    get_deployment = Endpoint(deployments.get_deployment)
    list_deployments = Endpoint(deployments.list_deployments)
    list_deployments_page = Endpoint(deployments.list_deployments_page)
    find_deployment = Endpoint(deployments.find_deployment)
    scale_deployment = Endpoint(deployments.scale_deployment)
    update_deployment = Endpoint(deployments.update_deployment)
    delete_deployment = Endpoint(deployments.delete_deployment)
    list_deployable_models = Endpoint(deployments.list_deployable_models)
    list_deployable_models_page = Endpoint(deployments.list_deployable_models_page)
    # Invocation
    generate = Endpoint(generation.generate)
    chat_completion = Endpoint(generation.chat_completion)
    list_models = Endpoint(generation.list_models)

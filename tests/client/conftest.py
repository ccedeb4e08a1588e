"""Client tests run every endpoint twice, through the sync and the async client, against
the emulator over a real loopback connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import AsyncDashScopeClient, DashScopeClient, RetryPolicy
from airflow_dashscope.client.config import ClientConfig, Secret
from airflow_dashscope.emulator.runner import RunningEmulator

Call = Callable[..., Any]

FAST_RETRY = RetryPolicy(max_retries=3, backoff=0.01, max_backoff=0.05)


def config_for(emulator: RunningEmulator, **overrides: Any) -> ClientConfig:
    options: dict[str, Any] = {
        "api_key": Secret(emulator.api_key),
        "base_url": emulator.base_url,
        "retry": FAST_RETRY,
    }
    options.update(overrides)
    return ClientConfig(**options)


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, dashscope_emulator: RunningEmulator) -> Iterator[Call]:
    """``api("method_name", *args)``: the endpoint, through the sync or the async client."""
    config = config_for(dashscope_emulator)
    if request.param == "sync":
        with DashScopeClient(config) as client:
            yield lambda endpoint, /, *args, **kwargs: getattr(client, endpoint)(*args, **kwargs)
        return
    loop = asyncio.new_event_loop()
    aclient = AsyncDashScopeClient(config)
    try:
        yield lambda endpoint, /, *args, **kwargs: loop.run_until_complete(
            getattr(aclient, endpoint)(*args, **kwargs)
        )
    finally:
        loop.run_until_complete(aclient.aclose())
        loop.close()


def chat_line(user: str = "Hi", answer: str = "Hello") -> str:
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": messages})


@pytest.fixture
def training_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(chat_line(f"q{i}", f"a{i}") for i in range(8)) + "\n")
    return path


HYPER = {"n_epochs": 1, "batch_size": 2, "max_length": 512}

"""Fixtures for trigger tests: the emulator, a connection to it, and a trigger runner.

The emulator fixtures come from the provider's own pytest plugin (imported, not copied). The
connection sets ``max_retries`` to 0 so that injected faults reach the trigger's own error
counting one for one instead of being absorbed by the client's retries.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.triggers.base import BaseTrigger

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.pytest_plugin import (  # noqa: F401 (fixtures)
    dashscope_emulator,
    dashscope_emulator_session,
)
from airflow_dashscope.emulator.runner import RunningEmulator


@pytest.fixture
def emu(
    dashscope_emulator: RunningEmulator,  # noqa: F811 (the imported fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> RunningEmulator:
    """A fresh emulator behind ``dashscope_default`` (no client-side retries)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_DASHSCOPE_DEFAULT",
        json.dumps(
            {
                "conn_type": "dashscope",
                "host": dashscope_emulator.base_url,
                "password": dashscope_emulator.api_key,
                # A string: the hook reads an integer 0 as "not set" (falls back to 4).
                "extra": {"max_retries": "0"},
            }
        ),
    )
    return dashscope_emulator


async def run_trigger(trigger: BaseTrigger) -> dict[str, Any]:
    """Run a trigger to its end; asserts it fires exactly one event and returns its payload."""
    events = [event async for event in trigger.run()]
    assert len(events) == 1, events
    payload = events[0].payload
    assert isinstance(payload, dict)
    return payload


SFT_LINE = (
    '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
)


@pytest.fixture
def client(emu: RunningEmulator) -> Iterator[DashScopeClient]:
    """A blocking client on the emulator, to set up what the triggers then wait for."""
    with DashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as made:
        yield made


@pytest.fixture
def new_job(client: DashScopeClient, tmp_path: Path) -> Callable[..., FineTuneJob]:
    """Creates a small SFT job (PENDING); keyword arguments go to ``create_fine_tune``."""

    def create(**options: Any) -> FineTuneJob:
        data = tmp_path / "train.jsonl"
        data.write_text(SFT_LINE * 32)
        file_id = client.upload_file(str(data))
        options.setdefault("training_type", "sft")
        options.setdefault("hyper_parameters", {"n_epochs": 2, "batch_size": 16})
        return client.create_fine_tune("qwen3-8b", [file_id], **options)

    return create


def finish_job(emu: RunningEmulator) -> None:
    """Move the emulator's clock past any small job's end (no sleeping)."""
    emu.advance(60)


async def polled(emu: RunningEmulator, endpoint: str, *, times: int = 1) -> None:
    """Wait (on the test's loop, up to 10 s) until ``endpoint`` was requested ``times`` times."""
    for _ in range(1000):
        if emu.counters()["requests"].get(endpoint, 0) >= times:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{endpoint} was not polled {times} times: {emu.counters()}")

"""Fixtures for operator tests: a manual-clock emulator, a task context, the clock turning.

The emulator's clock stands still unless a test turns it (``clock_running`` advances it from a
background thread), so timeouts and "still running" states are exact and nothing sleeps to
synchronise. A task instance stand-in records XCom pushes as JSON, as Airflow would store them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import structlog
from airflow.sdk.execution_time.context import OutletEventAccessors
from airflow.triggers.base import BaseTrigger

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator, run_emulator

SFT_LINE = json.dumps(
    {
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What is the capital of France?"},
            {"role": "assistant", "content": "Paris."},
        ]
    }
)
HYPER = {"n_epochs": 1, "batch_size": 8, "max_length": 1024}


@pytest.fixture(scope="session")
def dashscope_emulator_session() -> Iterator[RunningEmulator]:
    """Overrides the plugin's: one emulator whose clock moves only when a test moves it."""
    with run_emulator(manual_clock=True) as running:
        yield running


@pytest.fixture
def emu(dashscope_connection: RunningEmulator) -> RunningEmulator:
    """A reset emulator behind the ``dashscope_default`` connection."""
    return dashscope_connection


@pytest.fixture
def client(emu: RunningEmulator) -> Iterator[DashScopeClient]:
    """A client of the test's own, to set up and inspect the remote state."""
    with DashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as made:
        yield made


class FakeTaskInstance:
    """The parts of a task instance the operators use; XComs stored as JSON text."""

    def __init__(self, task_id: str = "task", run_id: str = "manual__1", map_index: int = -1):
        self.dag_id = "dag"
        self.task_id = task_id
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = 1
        self.xcoms: dict[str, str] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = json.dumps(value)

    def xcom(self, key: str) -> Any:
        return json.loads(self.xcoms[key])


@pytest.fixture
def make_context() -> Callable[..., dict[str, Any]]:
    """``make_context()``: a fresh context (a new try: XComs empty) for one task instance;
    ``clears=N``: the run was cleared N times (``dag_run.clear_number``)."""

    def make(task_id: str = "task", run_id: str = "manual__1", clears: int = 0) -> dict[str, Any]:
        return {
            "ti": FakeTaskInstance(task_id, run_id),
            "dag_run": SimpleNamespace(run_id=run_id, clear_number=clears),
            "outlet_events": OutletEventAccessors(),
            "run_id": run_id,
        }

    return make


@pytest.fixture
def clock_running(emu: RunningEmulator) -> Iterator[None]:
    """Turn the emulator clock from a background thread (20 emulated ms per real ms) while the
    test body runs, so remote jobs progress in milliseconds of real time."""
    stop = threading.Event()

    def turn() -> None:
        while not stop.wait(0.001):
            emu.advance(0.02)

    thread = threading.Thread(target=turn, name="emulator-clock", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@pytest.fixture
def task_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog`` holding the operators' task log lines: Airflow prints them through
    structlog, which is routed to the standard ``logging`` for the test's duration."""
    saved = structlog.get_config()
    structlog.configure(
        processors=[
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.render_to_log_kwargs,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    caplog.set_level(logging.INFO)
    try:
        yield caplog
    finally:
        structlog.configure(**saved)


@pytest.fixture
def training_path(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join([SFT_LINE] * 16) + "\n")
    return path


@pytest.fixture
def file_id(client: DashScopeClient, training_path: Path) -> str:
    """An uploaded training file."""
    return client.upload_file(str(training_path))


@pytest.fixture
def succeeded_job(
    client: DashScopeClient, emu: RunningEmulator, training_path: Path
) -> FineTuneJob:
    """A SUCCEEDED sft job (with checkpoints), made directly through the client."""
    file_id = client.upload_file(str(training_path))
    job = client.create_fine_tune(
        "qwen3-8b", [file_id], training_type="sft", hyper_parameters=HYPER
    )
    emu.advance(3600)
    done = client.get_fine_tune(job.job_id)
    assert done.status_name == "SUCCEEDED", done
    return done


def first_event(trigger: BaseTrigger) -> dict[str, Any]:
    """Run a trigger to its first event (what the triggerer would hand to the task)."""

    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(run())

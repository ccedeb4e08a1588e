"""One emulator per test module (manual clock), reset before each test, and an HTTP client
that speaks to it as the documents' curl examples do."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_dashscope.emulator import RunningEmulator, run_emulator


@pytest.fixture(scope="module")
def server() -> Iterator[RunningEmulator]:
    with run_emulator(manual_clock=True) as running:
        yield running


@pytest.fixture
def emu(server: RunningEmulator) -> RunningEmulator:
    server.reset()
    return server


@pytest.fixture
def client(emu: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"}
    ) as c:
        yield c

"""The view's reads: through the hook (connection from Airflow), cached for ``ttl`` seconds."""

from __future__ import annotations

import json
from pathlib import Path

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.plugins.remote import RemoteReader, TtlCache

SFT_LINE = json.dumps(
    {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _requests(emu: RunningEmulator, route: str) -> int:
    return int(emu.counters()["requests"].get(route, 0))


def test_answers_are_cached_for_ttl_seconds(
    dashscope_connection: RunningEmulator, tmp_path: Path
) -> None:
    emu = dashscope_connection
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join([SFT_LINE] * 8) + "\n")
    with DashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as client:
        file_id = client.upload_file(str(data))
        hyper = {"n_epochs": 1, "batch_size": 4, "max_length": 512}
        job_id = client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=hyper).job_id
    clock = FakeClock()
    reader = RemoteReader(ttl=5, clock=clock)

    first = reader.job("dashscope_default", job_id)
    assert reader.job("dashscope_default", job_id) is first
    logs = reader.logs("dashscope_default", job_id)
    reader.logs("dashscope_default", job_id)
    assert _requests(emu, "GET /api/v1/fine-tunes/{job_id}/logs") == 1
    gets = _requests(emu, "GET /api/v1/fine-tunes/{job_id}")
    assert gets == 1

    clock.now = 6
    reader.job("dashscope_default", job_id)
    later = reader.logs("dashscope_default", job_id)
    assert _requests(emu, "GET /api/v1/fine-tunes/{job_id}") == gets + 1
    assert _requests(emu, "GET /api/v1/fine-tunes/{job_id}/logs") == 2
    # The log is read on from where it stopped: the old lines are kept, in order.
    assert later[: len(logs)] == logs


def test_cache_expires_and_stays_bounded() -> None:
    clock = FakeClock()
    cache = TtlCache(10, size=2, clock=clock)
    loads: list[str] = []

    def load(value: str) -> str:
        loads.append(value)
        return value

    assert cache.get_or_load("a", lambda: load("a1")) == "a1"
    assert cache.get_or_load("a", lambda: load("a2")) == "a1"
    clock.now = 11
    assert cache.get_or_load("a", lambda: load("a3")) == "a3"
    cache.get_or_load("b", lambda: load("b1"))
    cache.get_or_load("c", lambda: load("c1"))
    assert cache.get_or_load("a", lambda: load("a4")) == "a4"  # evicted by size
    assert loads == ["a1", "a3", "b1", "c1", "a4"]

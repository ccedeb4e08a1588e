"""Many triggers, one connection: one shared client, sockets bounded by its pool, no leak.

Counted on the emulator's side (``counters()["connections"]``: distinct client sockets it
accepted), not timed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_dashscope.client.config import ClientConfig, Secret
from airflow_dashscope.client.errors import DashScopeConfigError
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.hooks import DashScopeHook, pool
from airflow_dashscope.hooks.pool import config_digest, shared_clients
from airflow_dashscope.sensors import DashScopeFineTuneJobSensor
from airflow_dashscope.triggers import DashScopeFineTuneJobTrigger
from tests.triggers.conftest import finish_job, polled, run_trigger

POOL_LIMIT = 8


def point_default_connection(
    monkeypatch: pytest.MonkeyPatch, emu: RunningEmulator, **extra: Any
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_DASHSCOPE_DEFAULT",
        json.dumps(
            {
                "conn_type": "dashscope",
                "host": emu.base_url,
                "password": emu.api_key,
                "extra": extra,
            }
        ),
    )


async def test_200_triggers_open_at_most_the_pools_limit_of_sockets(
    emu: RunningEmulator,
    new_job: Callable[..., FineTuneJob],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_default_connection(monkeypatch, emu, max_connections=str(POOL_LIMIT))
    jobs = [new_job() for _ in range(4)]
    before = emu.counters()["connections"]  # the set-up client's own socket
    triggers = [
        DashScopeFineTuneJobTrigger(jobs[i % len(jobs)].job_id, poll_interval=0.01)
        for i in range(200)
    ]
    runs = [asyncio.create_task(run_trigger(trigger)) for trigger in triggers]
    await polled(emu, "GET /api/v1/fine-tunes/{job_id}", times=2 * len(triggers))
    assert shared_clients.open_clients() == 1

    finish_job(emu)
    payloads = await asyncio.gather(*runs)

    assert [p["status"] for p in payloads] == ["success"] * 200
    opened = emu.counters()["connections"] - before
    assert 1 <= opened <= POOL_LIMIT, opened
    assert shared_clients.open_clients() == 0  # the last trigger closed the shared client


async def test_a_rotated_key_gets_its_own_client_and_each_closes_with_its_last_user(
    emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every hook looks the connection up itself, as after the 1 s shared-lookup window.
    monkeypatch.setattr(pool, "FRESH_FOR", -1.0)
    point_default_connection(monkeypatch, emu)
    first, second = DashScopeHook(), DashScopeHook()
    shared = await first.aget_conn()
    assert await second.aget_conn() is shared

    monkeypatch.setattr(emu.emulator.settings, "api_key", "sk-rotated")
    monkeypatch.setenv(
        "AIRFLOW_CONN_DASHSCOPE_DEFAULT",
        json.dumps({"conn_type": "dashscope", "host": emu.base_url, "password": "sk-rotated"}),
    )
    rotated_hook = DashScopeHook()
    rotated = await rotated_hook.aget_conn()
    assert rotated is not shared
    assert (await rotated.list_files_page()).total == 0  # the new key works
    assert shared_clients.open_clients() == 2

    await first.aclose()
    assert not shared._http.is_closed  # still lent to ``second``
    await second.aclose()
    assert shared._http.is_closed
    await rotated_hook.aclose()
    assert rotated._http.is_closed
    assert shared_clients.open_clients() == 0


def test_the_pool_key_does_not_contain_the_api_key() -> None:
    key = "sk-" + "a1b2c3" * 6
    digest = config_digest(ClientConfig(api_key=Secret(key)))
    assert key not in digest and "a1b2c3" not in digest
    assert digest != config_digest(ClientConfig(api_key=Secret(key + "x")))
    assert digest == config_digest(ClientConfig(api_key=Secret(key)))


def test_a_sensor_in_poke_mode_reuses_one_connection_across_pokes(
    emu: RunningEmulator, new_job: Callable[..., FineTuneJob]
) -> None:
    job = new_job()
    before = emu.counters()["connections"]
    sensor = DashScopeFineTuneJobSensor(
        task_id="wait", job_id=job.job_id, poke_interval=0.01, mode="poke", timeout=30
    )
    pokes = 0
    real_poke = sensor.poke

    def poke_then_finish(context: Any) -> Any:
        nonlocal pokes
        pokes += 1
        if pokes == 4:
            finish_job(emu)
        return real_poke(context)

    sensor.poke = poke_then_finish  # type: ignore[method-assign]
    result = sensor.execute({"ti": None})

    assert result["status"] == "SUCCEEDED"
    assert pokes >= 4
    assert emu.counters()["connections"] - before == 1


async def test_hooks_starting_together_share_one_connection_lookup(
    emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_default_connection(monkeypatch, emu)
    lookups = 0
    real_lookup = DashScopeHook.aclient_config

    async def counted(self: DashScopeHook) -> ClientConfig:
        nonlocal lookups
        lookups += 1
        return await real_lookup(self)

    monkeypatch.setattr(DashScopeHook, "aclient_config", counted)
    hooks = [DashScopeHook() for _ in range(50)]
    clients = await asyncio.gather(*(hook.aget_conn() for hook in hooks))
    assert lookups == 1
    assert len({id(client) for client in clients}) == 1
    for hook in hooks:
        await hook.aclose()
    assert clients[0]._http.is_closed


async def test_a_failed_lookup_is_not_shared_with_the_next_hook(
    emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    monkeypatch.setenv(
        "AIRFLOW_CONN_DASHSCOPE_DEFAULT",
        json.dumps({"conn_type": "dashscope", "host": emu.base_url}),  # no key yet
    )
    with pytest.raises(DashScopeConfigError, match="no API key"):
        await DashScopeHook().aget_conn()

    point_default_connection(monkeypatch, emu)  # fixed within the 1 s sharing window
    hook = DashScopeHook()
    client = await hook.aget_conn()
    assert (await client.list_files_page()).total == 0
    await hook.aclose()

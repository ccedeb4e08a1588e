"""The emulator over HTTPS: a client that trusts the generated CA talks to it; one that
does not is refused, so the TLS bench measures real verification, not a disabled one."""

from __future__ import annotations

import asyncio
import ssl

import httpx
import pytest

from airflow_dashscope.client import AsyncDashScopeClient
from airflow_dashscope.client.config import ClientConfig, Secret
from airflow_dashscope.client.errors import DashScopeTransportError
from airflow_dashscope.emulator.runner import RunningEmulator


def _config(emulator: RunningEmulator) -> ClientConfig:
    return ClientConfig(api_key=Secret(emulator.api_key), base_url=emulator.base_url)


def test_https_urls_and_ca(dashscope_emulator_tls: RunningEmulator) -> None:
    assert dashscope_emulator_tls.base_url.startswith("https://127.0.0.1:")
    assert dashscope_emulator_tls.ca_file is not None
    assert b"BEGIN CERTIFICATE" in dashscope_emulator_tls.ca_file.read_bytes()


def test_client_trusting_the_ca_is_served(dashscope_emulator_tls: RunningEmulator) -> None:
    trusted = ssl.create_default_context(cafile=str(dashscope_emulator_tls.ca_file))

    async def go() -> int:
        transport = httpx.AsyncHTTPTransport(verify=trusted)
        async with AsyncDashScopeClient(
            _config(dashscope_emulator_tls), transport=transport
        ) as client:
            return len(await client.list_fine_tunes())

    assert asyncio.run(go()) == 0


def test_localhost_name_is_covered_too(dashscope_emulator_tls: RunningEmulator) -> None:
    trusted = ssl.create_default_context(cafile=str(dashscope_emulator_tls.ca_file))
    url = f"https://localhost:{dashscope_emulator_tls.port}/api/v1/fine-tunes"
    headers = {"Authorization": f"Bearer {dashscope_emulator_tls.api_key}"}
    with httpx.Client(verify=trusted) as http:
        assert http.get(url, headers=headers).status_code == 200


def test_client_not_trusting_the_ca_is_refused(dashscope_emulator_tls: RunningEmulator) -> None:
    untrusted = ssl.create_default_context()  # system CAs only: the emulator's is not one

    async def go() -> None:
        transport = httpx.AsyncHTTPTransport(verify=untrusted)
        async with AsyncDashScopeClient(
            _config(dashscope_emulator_tls), transport=transport
        ) as client:
            await client.list_fine_tunes()

    with pytest.raises(DashScopeTransportError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(go())

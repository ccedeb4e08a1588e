"""pytest fixtures for testing code (e.g. DAGs) against a local DashScope emulator.

Registered through the ``pytest11`` entry point, so it loads in every pytest session of an
environment where the provider is installed; it therefore imports nothing heavy at import
time (the server starts only when a fixture is first requested).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_dashscope.emulator.runner import RunningEmulator


@pytest.fixture(scope="session")
def dashscope_emulator_session() -> Iterator[RunningEmulator]:
    """One emulator server for the whole test session."""
    from airflow_dashscope.emulator.runner import run_emulator

    with run_emulator() as running:
        yield running


@pytest.fixture
def dashscope_emulator(dashscope_emulator_session: RunningEmulator) -> RunningEmulator:
    """The session's emulator, with state, faults and counters reset before the test."""
    dashscope_emulator_session.reset()
    return dashscope_emulator_session


@pytest.fixture
def dashscope_connection(
    dashscope_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> RunningEmulator:
    """Point Airflow's ``dashscope_default`` connection at the emulator (via env var)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_DASHSCOPE_DEFAULT",
        json.dumps(
            {
                "conn_type": "dashscope",
                "host": dashscope_emulator.base_url,
                "password": dashscope_emulator.api_key,
            }
        ),
    )
    return dashscope_emulator


@pytest.fixture(scope="session")
def dashscope_emulator_tls(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningEmulator]:
    """An emulator served over HTTPS with a generated loopback certificate; the CA a client
    must trust is ``dashscope_emulator_tls.ca_file`` (never verify=False)."""
    from airflow_dashscope.emulator.runner import run_emulator
    from airflow_dashscope.emulator.tls import loopback_certificates

    certs = loopback_certificates(tmp_path_factory.mktemp("emulator-tls"))
    with run_emulator(ssl_certfile=certs.cert_file, ssl_keyfile=certs.key_file) as running:
        running.ca_file = certs.ca_file
        yield running

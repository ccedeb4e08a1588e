"""Serving the emulator: in-process (:func:`run_emulator`) and from the command line.

uvicorn runs in a background thread on a socket the caller binds first (port 0 picks a free
port), so the URL is known before the first request and nothing races for the port. Stopping
sets ``should_exit`` and joins the thread; uvicorn closes idle keep-alive connections itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from .app import API_PREFIX, create_app
from .clock import Clock
from .core import Emulator
from .errors import COMPATIBLE_PREFIX
from .settings import LIMITS, Settings
from .wire import INTL_PREFIX

DEFAULT_API_KEY = "sk-emulator"
GENERATED_KEY = "<generated>"


class _QuietDrops(logging.Filter):
    """Hide uvicorn's complaint about the responses that the "drop" fault abandons on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


class RunningEmulator:
    """Handle on a served emulator: URLs, a key it accepts, the clock and control methods."""

    def __init__(self, emulator: Emulator, host: str, port: int, *, tls: bool = False) -> None:
        self.emulator = emulator
        self.host = host
        self.port = port
        self.root_url = f"{'https' if tls else 'http'}://{host}:{port}"
        self.base_url = f"{self.root_url}{API_PREFIX}"
        self.compatible_base_url = f"{self.root_url}{COMPATIBLE_PREFIX}"
        #: The Singapore (``dashscope-intl``) region of the same emulator.
        self.intl_base_url = f"{self.root_url}{INTL_PREFIX}{API_PREFIX}"
        self.intl_compatible_base_url = f"{self.root_url}{INTL_PREFIX}{COMPATIBLE_PREFIX}"
        self.control_url = f"{self.root_url}/__emulator__"
        self.api_key = emulator.settings.api_key or DEFAULT_API_KEY
        #: The CA that signed an HTTPS emulator's certificate, for clients to trust.
        self.ca_file: Path | None = None

    @property
    def clock(self) -> Clock:
        return self.emulator.clock

    @property
    def settings(self) -> Settings:
        return self.emulator.settings

    def advance(self, seconds: float) -> float:
        return self.emulator.advance(seconds)

    def inject_fault(self, **options: Any) -> dict[str, Any]:
        """Arm a fault: ``kind`` (error|delay|drop|drop_after), ``status``, ``count``, ``method``,
        ``path`` (regex searched in the URL path), ``retry_after``, ``delay``, ``code``,
        ``message``."""
        return self.emulator.inject_fault(**options)

    def clear_faults(self) -> None:
        self.emulator.faults.clear()

    def fail_job(
        self,
        job_id: str,
        code: str = "InternalError",
        message: str = "Internal server error!",
        when: str = "now",
    ) -> dict[str, Any]:
        return self.emulator.fail_job(job_id, code, message, when)

    def extend_job(self, job_id: str, seconds: float) -> dict[str, Any]:
        return self.emulator.extend_job(job_id, seconds)

    def fail_export(
        self,
        job_id: str,
        checkpoint: str,
        code: str = "InternalError",
        message: str = "Internal server error!",
    ) -> list[dict[str, Any]]:
        """Fail the export of ``checkpoint`` (``checkpoint-N`` or its id): at once if one is
        under way, else the next one when it ends. Returns the job's checkpoint list."""
        return self.emulator.fail_export(job_id, checkpoint, code, message)

    def set_deployment_status(self, deployed_model: str, status: str) -> dict[str, Any]:
        """Stop (``"STOPPED"``) or fail (``"FAILED"``) a deployment at once."""
        return self.emulator.set_deployment_status(deployed_model, status)

    def set_limits(self, **limits: int) -> dict[str, int]:
        """Change account limits (``max_file_bytes``, ``max_files``, ``max_total_bytes``,
        ``max_jobs``) while serving; returns all of them."""
        return self.emulator.set_limits(**limits)

    def counters(self) -> dict[str, Any]:
        return self.emulator.counters_snapshot()

    def reset(self) -> None:
        self.emulator.reset()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: without it every answer whose headers and body go out in
    # two writes waits for the client's delayed ACK (about 40 ms a request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@contextlib.contextmanager
def run_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    log_level: str = "warning",
    api_key: str | None = GENERATED_KEY,
    ssl_certfile: str | Path | None = None,
    ssl_keyfile: str | Path | None = None,
    **settings: Any,
) -> Iterator[RunningEmulator]:
    """Serve an emulator in a background thread for the duration of the ``with`` block.

    By default it accepts exactly one freshly generated key (``RunningEmulator.api_key``) so
    that a client which forgets to send its configured key fails loudly; pass ``api_key=None``
    to accept any non-empty key (the CLI's default), or a string to accept exactly that key.

    With ``ssl_certfile`` and ``ssl_keyfile`` it serves HTTPS (``emulator.tls`` makes a
    loopback certificate and the CA that clients then trust explicitly).

    ``settings`` are :class:`~airflow_dashscope.emulator.settings.Settings` fields
    (``api_key``, ``job_seconds``, ``deploy_seconds``, ``export_seconds``, ``state_dir``,
    ``manual_clock``, and the limits ``max_file_bytes``, ``max_files``, ``max_total_bytes``,
    ``max_jobs``...).
    """
    if settings.get("state_dir") is not None:
        settings["state_dir"] = Path(settings["state_dir"])
    if api_key == GENERATED_KEY:
        api_key = f"sk-emulator-{secrets.token_hex(8)}"
    emulator = Emulator(Settings(api_key=api_key, **settings), clock)
    sock = _bind(host, port)
    config = uvicorn.Config(
        create_app(emulator),
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
        ssl_certfile=None if ssl_certfile is None else str(ssl_certfile),
        ssl_keyfile=None if ssl_keyfile is None else str(ssl_keyfile),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])),
        name=f"dashscope-emulator-{sock.getsockname()[1]}",
        daemon=True,
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the DashScope emulator failed to start")
            time.sleep(0.005)
        port = int(sock.getsockname()[1])
        yield RunningEmulator(emulator, host, port, tls=ssl_certfile is not None)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        emulator.close()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m airflow_dashscope.emulator",
        description="Local emulator of the DashScope fine-tuning API.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    p.add_argument("--job-seconds", type=float, default=Settings.job_seconds)
    p.add_argument("--deploy-seconds", type=float, default=Settings.deploy_seconds)
    p.add_argument("--export-seconds", type=float, default=Settings.export_seconds)
    p.add_argument("--state-dir", type=Path, default=None, help="persist state here")
    p.add_argument(
        "--workspace",
        action="append",
        default=[],
        help="a workspace id the account has besides the default one (repeatable)",
    )
    p.add_argument(
        "--export-model-id",
        choices=("asked", "derived"),
        default="asked",
        help="publish exported checkpoints under the asked name or a derived one",
    )
    for limit in LIMITS:
        p.add_argument(
            f"--{limit.replace('_', '-')}",
            type=int,
            default=getattr(Settings, limit),
            help=f"account limit (default: the service's, {getattr(Settings, limit)})",
        )
    p.add_argument("--ssl-certfile", type=Path, default=None, help="serve HTTPS with this")
    p.add_argument("--ssl-keyfile", type=Path, default=None, help="the certificate's key")
    p.add_argument("--log-level", default="warning")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    with run_emulator(
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        api_key=args.api_key,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        job_seconds=args.job_seconds,
        deploy_seconds=args.deploy_seconds,
        export_seconds=args.export_seconds,
        state_dir=args.state_dir,
        workspaces=tuple(args.workspace),
        export_model_id=args.export_model_id,
        **{limit: getattr(args, limit) for limit in LIMITS},
    ) as running:
        print(running.base_url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0

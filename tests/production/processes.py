"""Processes the suite starts: each in its own session (process group) with its own log file."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, check: Callable[[], T | None], timeout: float, every: float = 1.0) -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class Process:
    """One started process group; ``stop`` ends it (TERM, then KILL) and all its children."""

    name: str
    argv: Sequence[str]
    log: Path
    popen: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tree(self) -> list[psutil.Process]:
        """This process and its live descendants (task processes, pool children...)."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def freeze(self) -> None:
        """SIGSTOP the whole tree: it stops working and heartbeating, but its sockets stay open
        (a server still answers into them), as with a machine that hangs and then dies."""
        for proc in self.tree():
            with contextlib.suppress(psutil.Error):
                proc.suspend()

    def kill(self) -> None:
        """SIGKILL the process, its group and every descendant: a machine's crash, not a stop."""
        for proc in reversed(self.tree()):
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, grace: float = 30) -> None:
        """SIGTERM the group, wait, then SIGKILL whatever of its tree is left."""
        tree = self.tree()
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=grace)
        for proc in tree:  # children that left the group or outlived their leader
            with contextlib.suppress(psutil.Error):
                proc.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def start(
    name: str,
    argv: Sequence[str],
    logs: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> Process:
    """Start ``argv`` in a new session, its output in ``logs/<name>.log``."""
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            list(argv),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Process(name, list(argv), log, popen)


def run(
    argv: Sequence[str], env: dict[str, str] | None = None, user: str | None = None, timeout=300
) -> str:
    """Run a set-up command to completion; fail with its output if it fails."""
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    done = subprocess.run(
        list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout

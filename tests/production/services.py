"""PostgreSQL, Redis and the emulator, each started for the suite on a free loopback port.

The servers come from the machine (``.ci/install-services.sh`` installs them); their data live
in the suite's throw-away directory and nothing is installed or started system-wide.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx

from .processes import Process, free_port, run, start, wait_until

EMULATOR_LAUNCHER = Path(__file__).with_name("emulator_process.py")


def _postgres_bin(tool: str) -> str:
    """The newest installed PostgreSQL's own binary (Debian keeps them off PATH)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=_version_key)
    path = found[-1] if found else shutil.which(tool)
    if not path:
        raise RuntimeError(f"{tool} not found: run .ci/install-services.sh (as root) first")
    return path


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parts[-3])
    except ValueError:
        return 0.0


class Postgres:
    """A private cluster: trust auth on 127.0.0.1 only, durability off (a throw-away DB)."""

    user = "airflow"

    def __init__(self, base: Path, logs: Path) -> None:
        self.data = base / "pgdata"
        self.port = free_port()
        # PostgreSQL refuses to run as root: run it as the unprivileged ``postgres`` user.
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.data.mkdir()
        if self.run_as:
            shutil.chown(self.data, self.run_as, self.run_as)
        run(
            [_postgres_bin("initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust",
             "-E", "UTF8", "--no-sync"],
            user=self.run_as,
        )  # fmt: skip
        self.process: Process = start(
            "postgres",
            [_postgres_bin("postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.data}",
             "-c", "max_connections=400", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "shared_buffers=128MB"],
            logs,
            user=self.run_as,
        )  # fmt: skip
        wait_until("PostgreSQL to accept connections", self._ready, 60, every=0.5)
        run([_postgres_bin("createdb"), *self._client_args(), "airflow"])

    def _client_args(self) -> list[str]:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]

    def _ready(self) -> bool:
        if not self.process.alive():
            raise RuntimeError(f"PostgreSQL exited:\n{self.process.tail()}")
        probe = [_postgres_bin("pg_isready"), *self._client_args(), "-q"]
        try:
            run(probe, timeout=10)
        except RuntimeError:
            return False
        return True

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@127.0.0.1:{self.port}/airflow"

    def dump(self) -> str:
        """Every table's content, as ``pg_dump`` writes it."""
        return run([_postgres_bin("pg_dump"), *self._client_args(), "airflow"], timeout=120)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        with (
            psycopg2.connect(
                host="127.0.0.1", port=self.port, user=self.user, dbname="airflow"
            ) as conn,
            conn.cursor() as cur,
        ):
            cur.execute(sql, params)
            return list(cur.fetchall())

    def stop(self) -> None:
        self.process.stop()


class Redis:
    """A Redis with no persistence, bound to loopback."""

    def __init__(self, base: Path, logs: Path) -> None:
        import redis

        self.port = free_port()
        workdir = base / "redis"
        workdir.mkdir()
        server = shutil.which("redis-server")
        if not server:
            raise RuntimeError("redis-server not found: run .ci/install-services.sh first")
        self.process = start(
            "redis",
            [server, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "yes"],
            logs,
        )  # fmt: skip
        self.client = redis.Redis(host="127.0.0.1", port=self.port)
        wait_until("Redis to answer PING", self._ready, 30, every=0.2)

    def _ready(self) -> bool:
        import redis

        try:
            return bool(self.client.ping())
        except redis.ConnectionError:
            return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def dump(self) -> str:
        """Every key and every value of every database: queued and unacknowledged messages."""
        parts: list[str] = []
        for key in self.client.scan_iter(count=1000):
            kind = self.client.type(key).decode()
            value: Any
            if kind == "string":
                value = self.client.get(key)
            elif kind == "list":
                value = self.client.lrange(key, 0, -1)
            elif kind == "hash":
                value = self.client.hgetall(key)
            elif kind == "set":
                value = self.client.smembers(key)
            elif kind == "zset":
                value = self.client.zrange(key, 0, -1, withscores=True)
            else:
                value = kind
            parts.append(f"{key!r} {kind} {value!r}")
        return "\n".join(parts)

    def stop(self) -> None:
        self.client.close()
        self.process.stop()


class Emulator:
    """The DashScope emulator in its own process; faults and counters through its control API."""

    def __init__(self, logs: Path, api_key: str, **timings: float) -> None:
        argv = [sys.executable, str(EMULATOR_LAUNCHER)]
        for name, value in timings.items():
            argv += [f"--{name.replace('_', '-')}", str(value)]
        env = {**os.environ, "EMULATOR_API_KEY": api_key}
        self.api_key = api_key
        self.process = start("emulator", argv, logs, env=env)
        self.base_url = wait_until("the emulator's base URL", self._printed_url, 60, every=0.2)
        root = httpx.URL(self.base_url)
        self.port = int(root.port or 80)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def _printed_url(self) -> str | None:
        if not self.process.alive():
            raise RuntimeError(f"the emulator exited:\n{self.process.tail()}")
        for line in self.process.log.read_text(errors="replace").splitlines():
            if line.startswith("http://127.0.0.1:"):
                return line.strip()
        return None

    def control(self, verb: str, route: str, /, **body: Any) -> Any:
        answer = self.http.request(verb, f"/__emulator__{route}", json=body or None)
        answer.raise_for_status()
        return answer.json()

    def counters(self) -> dict[str, Any]:
        return dict(self.control("GET", "/counters"))

    def inject(self, **fault: Any) -> dict[str, Any]:
        return dict(self.control("POST", "/faults", **fault))

    def armed_faults(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "/faults")["faults"])

    def clear_faults(self) -> None:
        self.control("DELETE", "/faults")

    def extend_job(self, job_id: str, seconds: float) -> None:
        self.control("POST", f"/jobs/{job_id}/extend", seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.control("POST", "/clock/advance", seconds=seconds)

    def jobs(self) -> dict[str, dict[str, Any]]:
        """Every fine-tune job the service knows, by id (through the public API, with the key)."""
        found: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            answer = self.http.get(
                "/api/v1/fine-tunes",
                params={"page_no": page, "page_size": 100},
                headers={"Authorization": f"Bearer {self.api_key}"},
            )
            answer.raise_for_status()
            out = answer.json()["output"]
            for job in out["jobs"]:
                found[job["job_id"]] = job
            if page * 100 >= int(out["total"]):
                return found
            page += 1

    def stop(self) -> None:
        self.http.close()
        self.process.stop()

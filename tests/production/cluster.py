"""A production-shaped Airflow: PostgreSQL, CeleryExecutor on Redis, two workers, two triggerers.

Every component is its own ``airflow ...`` process with its own log, sharing one throw-away
``AIRFLOW_HOME``. The DashScope connection lives in a secrets backend (a connections file), never
in the metadata database or on a command line. The suite drives everything through the REST API
with a JWT from the API server's token endpoint, as an operator's script would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from .processes import Process, free_port, run, start, wait_until
from .services import Emulator, Postgres, Redis

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
DAG_ID = "example_dashscope_finetune"
TERMINAL_RUN = ("success", "failed")
ADMIN_PASSWORD = "production-suite"
WORKER_CONCURRENCY = 8
TRIGGERERS = ("triggerer-1", "triggerer-2")
WORKERS = ("worker-1", "worker-2")


class Airflow:
    """The Airflow components and a REST client for them."""

    def __init__(
        self, base: Path, logs: Path, postgres: Postgres, redis: Redis, emulator: Emulator
    ) -> None:
        self.base = base
        self.logs = logs
        self.postgres = postgres
        self.triggerer_job: dict[str, int] = {}
        self.home = base / "home"
        self.dags = base / "dags"
        self.home.mkdir()
        shutil.copytree(
            EXAMPLES, self.dags, ignore=shutil.ignore_patterns("run_demo.py", "__pycache__")
        )
        self.fernet_key = Fernet.generate_key().decode()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = self._environment(postgres, redis, emulator)
        self.processes: dict[str, Process] = {}
        self.retired: list[Process] = []
        self._run_after = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self._run_after -= dt.timedelta(days=1)
        run([sys.executable, "-m", "airflow", "db", "migrate"], env=self.env, timeout=600)
        self.start_component("api-server", "api-server", "--host", "127.0.0.1",
                             "--port", str(self.port), "--workers", "2")  # fmt: skip
        self.start_component("scheduler", "scheduler", "--skip-serve-logs")
        self.start_component("dag-processor", "dag-processor")
        for worker in WORKERS:
            self.start_worker(worker)
        self.api = httpx.Client(base_url=self.base_url, timeout=60)
        for triggerer in TRIGGERERS:
            self.start_triggerer(triggerer)
        wait_until("the API server", self._api_up, 300, every=2)
        token = self.api.post("/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD})
        token.raise_for_status()
        self.api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        wait_until("the DAG to be parsed", self._dag_parsed, 300, every=2)
        self.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})

    # -- set-up --------------------------------------------------------------------------
    def _environment(self, postgres: Postgres, redis: Redis, emulator: Emulator) -> dict[str, str]:
        secrets_dir = self.base / "secrets"
        secrets_dir.mkdir(mode=0o700)
        connections = secrets_dir / "connections.json"
        connections.write_text(
            json.dumps(
                {
                    "dashscope_default": {
                        "conn_type": "dashscope",
                        "host": emulator.base_url,
                        "password": emulator.api_key,
                    }
                }
            )
        )
        connections.chmod(0o600)
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps({"admin": ADMIN_PASSWORD}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DASHSCOPE"))}
        env.update(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url,
                "AIRFLOW__CELERY__BROKER_URL": redis.url,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{postgres.url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
                "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                # The connection comes from a secrets backend, as in production.
                "AIRFLOW__SECRETS__BACKEND": (
                    "airflow.secrets.local_filesystem.LocalFilesystemBackend"
                ),
                "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps(
                    {"connections_file_path": str(connections)}
                ),
                # 50 runs at once: their waits are deferred (no slot), their steps are short.
                "AIRFLOW__CORE__PARALLELISM": "64",
                "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "256",
                "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "128",
                "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "10",
                # The emulator's account is raised to 1000 jobs (the load's 50 runs and the
                # other scenarios' jobs): the provider's quota check is told the same.
                "AIRFLOW__DASHSCOPE__MAX_FINE_TUNE_JOBS": "1000",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "20",
                # The watchdog wakes every 0.1 s; this logs every wake-up later than 50 ms.
                "AIRFLOW__TRIGGERER__BLOCKED_MAIN_THREAD_WARNING_THRESHOLD": "0.15",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                # The example DAG's poll interval (its default is 30 s; emulated jobs take
                # seconds). 5 s keeps Airflow 3.3's resume race out of reach (see issue 8).
                "DASHSCOPE_EXAMPLE_POLL_SECONDS": "5",
            }
        )
        return env

    def start_component(self, name: str, *args: str) -> Process:
        process = start(name, [sys.executable, "-m", "airflow", *args], self.logs, env=self.env)
        if name in self.processes:
            self.retired.append(self.processes[name])
        self.processes[name] = process
        return process

    def start_worker(self, name: str) -> Process:
        return self.start_component(
            name, "celery", "worker", "--celery-hostname", f"{name}@%h",
            "--skip-serve-logs", "--without-gossip", "--without-mingle",
        )  # fmt: skip

    def start_triggerer(self, name: str) -> Process:
        """Start a triggerer and learn its job id (the ``triggerer_id`` of the triggers it runs)."""
        known = set(self.live_triggerer_ids())
        process = self.start_component(name, "triggerer", "--skip-serve-logs")

        def new_job() -> int | None:
            if not process.alive():
                raise RuntimeError(f"{name} exited:\n{process.tail()}")
            fresh = set(self.live_triggerer_ids()) - known
            return min(fresh) if fresh else None

        self.triggerer_job[name] = wait_until(f"{name}'s heartbeat", new_job, 180, every=1)
        return process

    def _api_up(self) -> bool:
        dead = [p.name for p in self.processes.values() if not p.alive()]
        if dead:
            raise RuntimeError(f"{dead} exited:\n{self.processes[dead[0]].tail()}")
        try:
            return self.api.get("/api/v2/monitor/health").status_code == 200
        except httpx.TransportError:
            return False

    def _dag_parsed(self) -> bool:
        return self.api.get(f"/api/v2/dags/{DAG_ID}").status_code == 200

    # -- REST ------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.api.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise AssertionError(f"{method} {path}: {answer.status_code} {answer.text[:2000]}")
        return answer.json() if answer.content else None

    def trigger_runs(self, prefix: str, count: int) -> list[str]:
        """``count`` manual runs, each with its own ``run_after`` second (the export's name)."""
        run_ids = []
        for i in range(count):
            self._run_after += dt.timedelta(seconds=1)
            run_id = f"{prefix}-{i:02d}"
            self.request(
                "POST",
                f"/api/v2/dags/{DAG_ID}/dagRuns",
                json={
                    "dag_run_id": run_id,
                    "logical_date": None,
                    "run_after": self._run_after.isoformat(),
                },
            )
            run_ids.append(run_id)
        return run_ids

    def run_states(self, run_ids: Iterable[str]) -> dict[str, str]:
        wanted = set(run_ids)
        runs = self.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 1000})[
            "dag_runs"
        ]
        return {r["dag_run_id"]: r["state"] for r in runs if r["dag_run_id"] in wanted}

    def wait_runs(self, run_ids: list[str], timeout: float) -> dict[str, str]:
        def finished() -> dict[str, str] | None:
            states = self.run_states(run_ids)
            done = [s for s in states.values() if s in TERMINAL_RUN]
            return states if len(done) == len(run_ids) else None

        return wait_until(f"{len(run_ids)} runs to finish", finished, timeout, every=3)

    def task_instances(self, run_id: str) -> dict[str, dict[str, Any]]:
        found = self.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")[
            "task_instances"
        ]
        return {ti["task_id"]: ti for ti in found}

    def task_states(self, run_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        return {
            run_id: {t: ti["state"] for t, ti in self.task_instances(run_id).items()}
            for run_id in run_ids
        }

    def wait_deferred(self, run_ids: list[str], task_id: str, timeout: float) -> None:
        def all_deferred() -> bool:
            states = self.task_states(run_ids)
            return all(s.get(task_id) == "deferred" for s in states.values())

        wait_until(f"{task_id} of {len(run_ids)} runs to defer", all_deferred, timeout, every=2)

    def trigger_polling(self, run_id: str, task_id: str, text: str, timeout: float) -> None:
        """Wait until a triggerer's log for ``task_id`` of ``run_id`` contains ``text``."""
        folder = self.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"

        def said() -> bool:
            return any(text in p.read_text(errors="replace") for p in folder.glob("*trigger*"))

        wait_until(f"the trigger of {run_id} to say {text!r}", said, timeout)

    def set_task_state(self, run_id: str, task_id: str, state: str) -> Any:
        return self.request(
            "PATCH",
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}",
            json={"new_state": state},
        )

    def clear_task(self, run_id: str, task_id: str) -> Any:
        return self.request(
            "POST",
            f"/api/v2/dags/{DAG_ID}/clearTaskInstances",
            json={
                "dag_run_id": run_id,
                "task_ids": [task_id],
                "dry_run": False,
                "only_failed": False,
                "reset_dag_runs": True,
                "include_downstream": True,
            },
        )

    # -- the metadata database, read directly where the REST API does not tell -------------
    def live_triggerer_ids(self) -> list[int]:
        rows = self.postgres.query(
            "SELECT id FROM job WHERE job_type = 'TriggererJob' AND state = 'running' "
            "AND latest_heartbeat > now() - interval '20 seconds'"
        )
        return [int(r[0]) for r in rows]

    def triggers(self) -> list[tuple[int, str, str, int | None]]:
        """(id, classpath, decrypted kwargs, triggerer job id) of every trigger row."""
        fernet = Fernet(self.fernet_key.encode())
        rows = self.postgres.query("SELECT id, classpath, kwargs, triggerer_id FROM trigger")
        out = []
        for trigger_id, classpath, kwargs, triggerer_id in rows:
            text = kwargs if kwargs.startswith("{") else fernet.decrypt(kwargs.encode()).decode()
            out.append((int(trigger_id), str(classpath), text, triggerer_id))
        return out

    # -- processes -------------------------------------------------------------------------
    def all_processes(self) -> list[Process]:
        return [*self.processes.values(), *self.retired]

    def stop(self) -> None:
        self.api.close()
        order = ["scheduler", *TRIGGERERS, *WORKERS, "dag-processor", "api-server"]
        for name in sorted(self.processes, key=lambda n: order.index(n) if n in order else 99):
            self.processes[name].stop()

    def wait_quiet(self, timeout: float = 60) -> None:
        """No task instance queued or running anywhere (between scenarios)."""

        def quiet() -> bool:
            rows = self.postgres.query(
                "SELECT count(*) FROM task_instance WHERE state IN "
                "('queued', 'running', 'scheduled', 'deferred', 'up_for_retry')"
            )
            return int(rows[0][0]) == 0

        wait_until("the cluster to be idle", quiet, timeout, every=2)

"""Parse cost: importing each provider's operators, above a bare ``import airflow.sdk``.

What a DAG file pays at every parse. Each sample is a fresh interpreter that imports
``airflow.sdk`` first and then times only the provider's import (so interpreter start-up
and Airflow itself are not counted); the variants are interleaved, ``REPEATS`` rounds.

Two ways of loading, both stated: with byte-code cached (what an installed wheel gives: pip
writes ``.pyc`` files; here a private ``PYTHONPYCACHEPREFIX`` warmed once), and with none
(``PYTHONDONTWRITEBYTECODE=1``, as on this project's machines: every module's source is
compiled again in every process, most of the cost).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile

from _common import PYTHON, REPEATS, fmt, table

TARGETS = {
    "this provider: operators": "from airflow_dashscope.operators import *",
    "this provider: operators + sensors": (
        "from airflow_dashscope.operators import *; from airflow_dashscope.sensors import *"
    ),
    "OpenAI provider: operators": "from airflow.providers.openai.operators.openai import *",
    "Anthropic provider: operators": ("from airflow.providers.anthropic.operators.batch import *"),
}
REQUIRES = {
    "OpenAI provider: operators": "airflow.providers.openai",
    "Anthropic provider: operators": "airflow.providers.anthropic",
}

PROBE = """
import time
import airflow.sdk
started = time.perf_counter()
{statement}
print((time.perf_counter() - started) * 1000)
"""


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def sample(statement: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [PYTHON, "-c", PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env=env,
    )
    return float(done.stdout.strip().splitlines()[-1])


def environments(cache: str) -> dict[str, dict[str, str]]:
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        "byte-code cached": {**base, "PYTHONPYCACHEPREFIX": cache},
        "no byte-code": {**base, "PYTHONDONTWRITEBYTECODE": "1"},
    }


def main() -> str:
    targets = {
        name: statement
        for name, statement in TARGETS.items()
        if name not in REQUIRES or installed(REQUIRES[name])
    }
    missing = sorted(set(TARGETS) - set(targets))
    samples: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache:
        envs = environments(cache)
        for statement in targets.values():
            sample(statement, envs["byte-code cached"])  # write the byte-code once
        for _ in range(REPEATS):
            for mode, env in envs.items():
                for name, statement in targets.items():
                    samples.setdefault((name, mode), []).append(sample(statement, env))
    rows = [
        [name, *(fmt(samples[(name, mode)]) for mode in ("byte-code cached", "no byte-code"))]
        for name in targets
    ]
    note = f"min / median of {REPEATS} fresh processes each."
    if missing:
        note += f" Not installed (`pip install -e .[bench]`): {', '.join(missing)}."
    header = ["import (after `import airflow.sdk`)", "ms, byte-code cached", "ms, no byte-code"]
    return "### Import cost\n\n" + table(header, rows) + "\n\n" + note + "\n"


if __name__ == "__main__":
    print(main())

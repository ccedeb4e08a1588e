"""Parse cost: importing each provider's operators, above a bare ``import airflow.sdk``.

What a DAG file pays at every parse. Each sample is a fresh interpreter that imports
``airflow.sdk`` first and then times only the provider's import (so interpreter start-up
and Airflow itself are not counted); the variants are interleaved, ``REPEATS`` rounds.
"""

from __future__ import annotations

import importlib.util
import subprocess

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


def sample(statement: str) -> float:
    done = subprocess.run(
        [PYTHON, "-c", PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> str:
    targets = {
        name: statement
        for name, statement in TARGETS.items()
        if name not in REQUIRES or installed(REQUIRES[name])
    }
    missing = sorted(set(TARGETS) - set(targets))
    for statement in targets.values():
        sample(statement)  # warm the byte-code caches once
    samples: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(REPEATS):
        for name, statement in targets.items():
            samples[name].append(sample(statement))
    rows = [[name, fmt(values)] for name, values in samples.items()]
    note = f"min / median of {REPEATS} fresh processes each."
    if missing:
        note += f" Not installed (`pip install -e .[bench]`): {', '.join(missing)}."
    header = ["import (after `import airflow.sdk`)", "ms"]
    return "### Import cost\n\n" + table(header, rows) + "\n\n" + note + "\n"


if __name__ == "__main__":
    print(main())

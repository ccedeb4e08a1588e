"""The built distributions: what they contain, and a wheel installed on its own works.

The wheel is built from this checkout and installed into a fresh virtual environment with
only its own dependencies (no test extras), as a user would install it; ``uv`` (installed in
the project's venv by ``make venv``) makes that fast by reusing its package cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from airflow_dashscope import __version__

ROOT = Path(__file__).resolve().parents[1]
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(UV is None, reason="uv is installed by `make venv`"),
]


def _run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("dist")
    assert UV is not None
    _run(UV, "build", "--sdist", "--wheel", "--out-dir", out, ROOT)
    yield out


def only(folder: Path, pattern: str) -> Path:
    (found,) = folder.glob(pattern)
    return found


def test_wheel_contents(dist: Path) -> None:
    wheel = zipfile.ZipFile(
        only(dist, f"airflow_provider_dashscope-{__version__}-py3-none-any.whl")
    )
    names = set(wheel.namelist())
    info = f"airflow_provider_dashscope-{__version__}.dist-info"
    assert {f"{info}/licenses/LICENSE", f"{info}/licenses/NOTICE"} <= names
    assert "airflow_dashscope/py.typed" in names
    assert "airflow_dashscope/example_dags/example_dashscope_finetune.py" in names
    assert "airflow_dashscope/example_dags/data/sft_sample.jsonl" in names
    assert "airflow_dashscope/example_dags/data/support_sample.jsonl" in names
    assert not any(name.startswith(("tests/", "docs/")) for name in names)
    metadata = wheel.read(f"{info}/METADATA").decode()
    assert f"Version: {__version__}" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    assert f"Programming Language :: Python :: {sys.version_info[0]}.{sys.version_info[1]}" in (
        metadata
    )
    assert "Project-URL: Documentation" in metadata
    assert "Provides-Extra: openlineage" in metadata
    entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert "apache_airflow_provider" in entry_points


def test_sdist_contents(dist: Path) -> None:
    sdist = only(dist, f"airflow_provider_dashscope-{__version__}.tar.gz")
    root = f"airflow_provider_dashscope-{__version__}"
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    for name in ("LICENSE", "NOTICE", "CHANGELOG.md", "README.md", "mkdocs.yml", "docs/index.md"):
        assert f"{root}/{name}" in names, name
    assert f"{root}/airflow_dashscope/py.typed" in names


PARSE_EXAMPLES = """
import sys
from importlib.resources import files

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1
    from airflow.models.dagbag import DagBag

folder = files("airflow_dashscope") / "example_dags"
bag = DagBag(dag_folder=str(folder), safe_mode=False)  # examples: LOAD_EXAMPLES=False
print("ERRORS", dict(bag.import_errors))
print("DAGS", sorted(bag.dag_ids))
sys.exit(1 if bag.import_errors else 0)
"""


def test_the_wheel_alone_installs_registers_and_parses_its_examples(
    dist: Path, tmp_path: Path
) -> None:
    assert UV is not None
    wheel = only(dist, "*.whl")
    venv = tmp_path / "venv"
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    # This machine's package settings (index, certificates, uv cache) but none of the test
    # session's Airflow settings: the new environment gets its own Airflow home.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))}
    env.update(
        PATH=f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    # The same Airflow release as this environment's, so uv's cache serves it.
    _run(
        UV,
        "pip",
        "install",
        "--quiet",
        wheel,
        f"apache-airflow=={version('apache-airflow')}",
        env=env,
    )
    python = venv / "bin" / "python"
    # No test extras came along (the emulator's own web stack is a runtime dependency).
    absent = (
        "import importlib.util as u; "
        "assert not any(map(u.find_spec, ['hypothesis', 'dashscope', 'pytest_asyncio']))"
    )
    _run(python, "-c", absent, env=env)
    providers = _run(venv / "bin" / "airflow", "providers", "list", "-o", "plain", env=env)
    assert "airflow-provider-dashscope" in providers and __version__ in providers
    parsed = _run(python, "-c", PARSE_EXAMPLES, env=env, cwd=tmp_path)
    assert "'example_dashscope_finetune'" in parsed and "ERRORS {}" in parsed

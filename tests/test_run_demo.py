"""``make demo``: a quiet run whose summary a newcomer reads, Airflow's log in a file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "example_dags" / "run_demo.py"


QUIET_THEN_VERBOSE = """
import importlib.util, logging, os, sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("run_demo", sys.argv[1])
demo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo)
logging.basicConfig(stream=sys.stderr)  # a handler holding the stream, as Airflow's do
with demo._output_to(Path(sys.argv[2])):
    logging.warning("a line of Airflow's log")
    os.write(1, b"a subprocess line\\n")
with demo._output_to(None):
    logging.warning("verbose: on screen")
print("the summary")
"""


def test_quiet_output_goes_to_the_log_file_even_from_handlers_made_before(
    tmp_path: Path,
) -> None:
    """Airflow's handlers hold the streams they found at start-up: redirect the descriptors."""
    log = tmp_path / "demo.log"
    done = subprocess.run(
        [sys.executable, "-c", QUIET_THEN_VERBOSE, str(DEMO), str(log)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "a line of Airflow's log" in log.read_text() and "a subprocess line" in log.read_text()
    assert "a line of Airflow's log" not in done.stderr
    assert "a subprocess line" not in done.stdout
    assert "verbose: on screen" in done.stderr and done.stdout == "the summary\n"


def _run_demo(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DASHSCOPE"))}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, str(DEMO)],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_make_demo_prints_a_summary_not_airflows_log(tmp_path: Path) -> None:
    done = _run_demo(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert len(out.splitlines()) < 40, out  # not Airflow's 160 lines
    assert "success" in out.splitlines()[3]
    # The answer in full (it used to be cut at 150 characters), the job, its tokens, the UI.
    answer = re.search(r"The fine-tuned model answered:\n  (.+)\n", out)
    # The question is one of the training examples': the model answers what it learned.
    learned = "An operator that hands its waiting to the triggerer so it holds no worker slot."
    assert answer and answer[1] == learned, out
    assert re.search(r"Fine-tune job: ft-\S+ \(SUCCEEDED\)", out)
    assert re.search(r"billed tokens: \d+", out)
    assert "airflow standalone" in out and "http://localhost:8080/plugin/dashscope " in out
    log = Path(re.search(r"Airflow's log of this run: (\S+)", out)[1])  # type: ignore[index]
    assert "example_dashscope_finetune" in log.read_text() and "DEMO_VERBOSE=1" in out
    verbose = _run_demo(tmp_path, DEMO_VERBOSE="1")
    assert verbose.returncode == 0
    assert len((verbose.stdout + verbose.stderr).splitlines()) > 3 * len(out.splitlines())
    assert "Airflow's log of this run" not in verbose.stdout

"""The emulator as its own process for the production-shaped suite.

Like ``python -m airflow_dashscope.emulator``, it prints its base URL and serves until SIGTERM,
with two differences the suite needs: the accepted key comes from the ``EMULATOR_API_KEY``
environment variable (a key on the command line would sit in ``/proc/<pid>/cmdline``, which
the secrets scenario scans), and the account's job limit can be raised (the service allows 20
running or succeeded jobs; the load scenario keeps 50 at once and deletes none).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

from airflow_dashscope.emulator import run_emulator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--job-seconds", type=float, required=True)
    parser.add_argument("--deploy-seconds", type=float, required=True)
    parser.add_argument("--export-seconds", type=float, required=True)
    parser.add_argument("--max-jobs", type=int, default=20)
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with run_emulator(
        api_key=os.environ["EMULATOR_API_KEY"],
        job_seconds=args.job_seconds,
        deploy_seconds=args.deploy_seconds,
        export_seconds=args.export_seconds,
        max_jobs=args.max_jobs,
    ) as running:
        print(running.base_url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

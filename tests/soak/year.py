"""What the soak test reads from the account each week, and the table it prints.

Kept apart from the test so the test reads as the year it runs: a week's figures are sampled
from the emulator over the wire (the same lists a user's account would show).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from airflow_dashscope.checks.prices import training_cost
from airflow_dashscope.client import DashScopeClient

#: Job states that hold one of the account's 20 fine-tune slots.
HOLDS_A_SLOT = frozenset({"PENDING", "QUEUING", "RUNNING", "SUCCEEDED"})


@dataclass(frozen=True)
class Week:
    """The account after one week's runs."""

    week: int
    jobs: int
    #: Jobs holding a slot during the run: after training, before the retention trimmed.
    peak_jobs: int
    files: int
    stored_bytes: int
    deployments: int
    billed_tokens: int
    yuan: Decimal


def sample(
    week: int, client: DashScopeClient, billed: dict[str, int], model: str, retained: dict[str, Any]
) -> Week:
    """Read the account; ``billed`` (job id -> usage) keeps the usage of jobs deleted since;
    ``retained`` is the week's retention result (the trained models it deleted held slots)."""
    jobs = client.list_fine_tunes()
    trimmed = [e for e in retained["deleted"] if e["resource"] == "job" and "beyond" in e["why"]]
    for job in jobs:
        if job.usage_tokens:
            billed[job.job_id] = job.usage_tokens
    files = client.list_files()
    tokens = sum(billed.values())
    return Week(
        week=week,
        jobs=sum(job.status_name in HOLDS_A_SLOT for job in jobs),
        peak_jobs=sum(job.status_name in HOLDS_A_SLOT for job in jobs) + len(trimmed),
        files=len(files),
        stored_bytes=sum(item.size or 0 for item in files),
        deployments=sum(d.status_name != "DELETING" for d in client.list_deployments()),
        billed_tokens=tokens,
        yuan=training_cost(tokens, model) or Decimal(0),
    )


def table(weeks: list[Week]) -> str:
    """One line a week (jobs holding a slot after the run and at its peak, files, bytes,
    live deployments; billed tokens and yuan cumulative)."""
    head = (
        f"{'week':>4} {'jobs':>4} {'files':>5} {'bytes':>9} {'deploy':>6} {'billed':>9} {'yuan':>8}"
    )
    lines = [head]
    lines += [
        f"{w.week:>4} {w.jobs:>4} {w.peak_jobs:>4} {w.files:>5} {w.stored_bytes:>9} "
        f"{w.deployments:>6} {w.billed_tokens:>9} {w.yuan:>8}"
        for w in weeks
    ]
    return "\n".join(lines)


def md5_of(url: str) -> str:
    """The digest of a ``file://`` data set: which weeks' data are the same."""
    return hashlib.md5(Path(url.removeprefix("file://")).read_bytes()).hexdigest()


def year_of_examples(sample_file: Path, copies: int) -> str:
    """The sample's examples ``copies`` times over, each copy's questions marked: a source
    with more training examples than a year has weeks, so each week's rotation is new data
    (the shipped sample's 10 training examples repeat every 10 weeks)."""
    lines = [json.loads(line) for line in sample_file.read_text().splitlines() if line.strip()]
    out = []
    for copy in range(copies):
        for example in lines:
            messages = [dict(m) for m in example["messages"]]
            for message in messages:
                if message["role"] == "user" and copy:
                    message["content"] += f" (variant {copy})"
            out.append(json.dumps({"messages": messages}))
    return "\n".join(out) + "\n"

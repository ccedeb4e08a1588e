"""The ETL half of scheduled retraining: produce this week's training data as an Asset.

``extract`` stands for whatever builds your data (a warehouse query, a labelling tool's
export...). It writes two JSONL files to object storage, the training set and a held-out set
for evaluation, and records an event on the ``dashscope_example_training_data`` asset whose
``extra`` holds their URLs. ``example_dashscope_retrain`` is scheduled on that asset: each
new data set trains, evaluates and (if it is at least as good) deploys a new model.

``DASHSCOPE_EXAMPLE_DATA_URL`` says where the files go: any ``ObjectStoragePath`` URL
(``s3://bucket/prefix`` with a connection, or ``file:///...`` to try it locally).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, ObjectStoragePath, task

DATA_URL = os.environ.get("DASHSCOPE_EXAMPLE_DATA_URL", "file:///tmp/dashscope-example-data")
TRAINING_DATA = Asset(name="dashscope_example_training_data", uri=DATA_URL)
#: Each question twice, in other words: a held-out example has a paraphrase in training,
#: as examples drawn from one distribution do (so the evaluation measures what was learned).
SOURCE = Path(__file__).parent / "data" / "support_sample.jsonl"
#: Every HELD_OUT_EVERY-th example is kept out of training, for the evaluation.
HELD_OUT_EVERY = 6


def of_week(lines: list[str], week: int) -> list[str]:
    """This week's examples: the sample rotated by one example a week stands for new data (a
    real ETL's week differs by content; identical content would train nothing new, as the
    retraining recognises data its model already learned)."""
    shift = week % len(lines) if lines else 0
    return lines[shift:] + lines[:shift]


def split(lines: list[str]) -> tuple[list[str], list[str]]:
    """Training and held-out examples (a fixed, reproducible split)."""
    held = [line for i, line in enumerate(lines) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    train = [line for i, line in enumerate(lines) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    return train, held


with DAG(
    dag_id="example_dashscope_etl",
    description="Build the fine-tuning data set and publish it as an Asset",
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dashscope", "example", "retraining"],
) as dag:

    @task(outlets=[TRAINING_DATA])
    def extract(*, run_id: str, dag_run: Any = None, outlet_events: Any = None) -> dict[str, str]:
        lines = [line for line in SOURCE.read_text().splitlines() if line.strip()]
        for line in lines:
            json.loads(line)  # the source is trusted here; a real ETL checks its output
        when = dag_run.logical_date or dag_run.run_after
        train, held_out = split(lines)
        train = of_week(train, when.isocalendar().week)
        folder = ObjectStoragePath(DATA_URL) / run_id.replace(":", "-").replace("+", "-")
        folder.mkdir(parents=True, exist_ok=True)
        written = {}
        for name, rows in (("train", train), ("heldout", held_out)):
            path = folder / f"{name}.jsonl"
            path.write_text("\n".join(rows) + "\n")
            written[name] = str(path)
        outlet_events[TRAINING_DATA].extra = written
        return written

    extract()

"""Turn a fine-tune job's log lines into loss curves and a short summary (pure, no I/O).

The service's log has no fixed schema, so every shape seen is read. What the vendor's pages
show (the "get fine-tune job logs" sample of the training API reference) comes first:

* the trainer's metric records, as Python or JSON dicts, alone or after a timestamp:
  ``{'loss': 1.02, 'learning_rate': 1e-05, 'epoch': 0.5}``, ``{'eval_loss': 0.98, 'epoch':
  1.0}``, and the final ``{'train_runtime': 216.4, 'train_steps_per_second': 0.014,
  'train_loss': 0.91, 'epoch': 0.86}``; with no ``step`` in a record, training records are
  numbered 1, 2, ... in order (``steps_counted`` says so);
* what the job says about its end: ``Actual number of consumed tokens is 279808!``,
  ``training usage 279808``, ``use checkpoint-3 as final checkpoint``, ``finetune-job
  succeeded`` after a ``2024-10-29 17:11:24,689 - INFO -`` stamp.

The vendor's log states no step total: ``total_steps`` is then derived from the final
record (``train_runtime x train_steps_per_second``, ``total_steps_derived`` says so) or left
None. The emulator's lines carry more, used when present but never needed:
``2025-11-27 20:33:15 [INFO] step 4/9 epoch 2/3 loss 0.8772 lr 9.000e-06`` (also
``val_loss``/``eval_loss``/``validation loss`` and ``key=value`` or ``key: value``),
``Saved checkpoint checkpoint-4`` and ``Training started: 3 epochs, 3 steps per epoch, 9
steps in total``.

Lines that match nothing are skipped. :func:`summarize` is the one entry point; the fine-tune
operator puts ``summarize(lines).to_dict()`` in its result and the UI draws ``points`` from
the same object.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})")
_STEP = re.compile(r"\b(?:global[_ ])?step\b\s*[:=]?\s*(\d+)(?:\s*/\s*(\d+))?", re.IGNORECASE)
_EPOCH = re.compile(rf"\bepoch\b\s*[:=]?\s*({_NUMBER})(?:\s*/\s*(\d+))?", re.IGNORECASE)
_VAL_LOSS = re.compile(rf"\b(?:val|eval|validation)[_ ]loss\b\s*[:=]?\s*({_NUMBER})", re.IGNORECASE)
_TRAIN_LOSS = re.compile(
    rf"(?<![\w.])(?:train(?:ing)?[_ ])?loss\b\s*[:=]?\s*({_NUMBER})", re.IGNORECASE
)
_TOKENS = re.compile(
    r"(?:consumed tokens is|training usage|usage[_ ]tokens)\s*[:=]?\s*(\d+)", re.IGNORECASE
)
_FINAL_CHECKPOINT = re.compile(r"use (checkpoint-\d+) as final checkpoint", re.IGNORECASE)
_SAVED_CHECKPOINT = re.compile(r"saved checkpoint\s+(checkpoint-\d+)", re.IGNORECASE)
_PLAN = re.compile(r"(\d+) epochs?, (\d+) steps? per epoch, (\d+) steps? in total", re.IGNORECASE)
_STARTED = re.compile(r"training started|start(?:ed)? training", re.IGNORECASE)
_FINISHED = re.compile(
    r"training finished|finetune-job succeeded|fine-tune succeeded|job failed|job canceled",
    re.IGNORECASE,
)


@dataclass
class TrainingPoint:
    """One logged step: training loss, validation loss, or both."""

    step: int
    epoch: float | None = None
    train_loss: float | None = None
    val_loss: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
        }


@dataclass
class TrainingSummary:
    """What a job's log says about its training (see :func:`summarize`)."""

    points: list[TrainingPoint] = field(default_factory=list)
    total_steps: int | None = None
    total_epochs: int | None = None
    steps_per_epoch: int | None = None
    #: True when the log's records carry no step and they were numbered in order.
    steps_counted: bool = False
    #: True when ``total_steps`` was worked out from the trainer's runtime and step rate.
    total_steps_derived: bool = False
    #: Tokens the job reports having consumed (the billed figure is the job's ``usage``).
    consumed_tokens: int | None = None
    #: The trainer's average training loss over the run, when it reports one.
    average_loss: float | None = None
    saved_checkpoints: list[str] = field(default_factory=list)
    final_checkpoint: str | None = None
    started_at: str | None = None
    finished_at: str | None = None

    # --- derived figures ------------------------------------------------------------------
    @property
    def steps(self) -> int | None:
        """The last step logged."""
        return self.points[-1].step if self.points else None

    @property
    def epochs(self) -> float | None:
        """The last epoch logged."""
        epochs = [p.epoch for p in self.points if p.epoch is not None]
        return epochs[-1] if epochs else None

    def _last(self, attr: str) -> TrainingPoint | None:
        return next((p for p in reversed(self.points) if getattr(p, attr) is not None), None)

    def _best(self, attr: str) -> TrainingPoint | None:
        logged = [p for p in self.points if getattr(p, attr) is not None]
        return min(logged, key=lambda p: getattr(p, attr)) if logged else None

    @property
    def final_loss(self) -> float | None:
        point = self._last("train_loss")
        return point.train_loss if point else None

    @property
    def best_loss(self) -> float | None:
        point = self._best("train_loss")
        return point.train_loss if point else None

    @property
    def best_step(self) -> int | None:
        point = self._best("train_loss")
        return point.step if point else None

    @property
    def final_val_loss(self) -> float | None:
        point = self._last("val_loss")
        return point.val_loss if point else None

    @property
    def best_val_loss(self) -> float | None:
        point = self._best("val_loss")
        return point.val_loss if point else None

    @property
    def best_val_step(self) -> int | None:
        point = self._best("val_loss")
        return point.step if point else None

    def to_dict(self, *, points: bool = False) -> dict[str, Any]:
        """JSON-ready figures (small enough for an XCom); ``points=True`` adds the curve."""
        out: dict[str, Any] = {
            "final_loss": self.final_loss,
            "best_loss": self.best_loss,
            "best_step": self.best_step,
            "final_val_loss": self.final_val_loss,
            "best_val_loss": self.best_val_loss,
            "best_val_step": self.best_val_step,
            "average_loss": self.average_loss,
            "steps": self.steps,
            "total_steps": self.total_steps,
            "epochs": self.epochs,
            "total_epochs": self.total_epochs,
            "steps_per_epoch": self.steps_per_epoch,
            "steps_counted": self.steps_counted,
            "total_steps_derived": self.total_steps_derived,
            "logged_points": len(self.points),
            "consumed_tokens": self.consumed_tokens,
            "saved_checkpoints": list(self.saved_checkpoints),
            "final_checkpoint": self.final_checkpoint,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }
        if points:
            out["points"] = [p.to_dict() for p in self.points]
        return out


# ---------------------------------------------------------------------------------- parsing
def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _record(line: str) -> dict[str, Any] | None:
    """The ``{...}`` metrics record in ``line`` (Python or JSON literal), if any."""
    start, end = line.find("{"), line.rfind("}")
    if start < 0 or end <= start:
        return None
    text = line[start : end + 1]
    for parse in (json.loads, ast.literal_eval):
        try:
            value = parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return value if isinstance(value, dict) else None
    return None


@dataclass
class _Reading:
    step: int | None = None
    epoch: float | None = None
    train_loss: float | None = None
    val_loss: float | None = None
    total_steps: int | None = None
    total_epochs: int | None = None

    @property
    def has_loss(self) -> bool:
        return self.train_loss is not None or self.val_loss is not None


def _from_record(record: dict[str, Any]) -> _Reading:
    def number(*keys: str) -> float | None:
        for key in keys:
            value = _finite(record.get(key))
            if value is not None:
                return value
        return None

    step = number("step", "global_step", "current_step")
    total = number("total_steps", "max_steps")
    return _Reading(
        step=int(step) if step is not None else None,
        epoch=number("epoch"),
        train_loss=number("loss", "training_loss"),
        val_loss=number("eval_loss", "val_loss", "validation_loss"),
        total_steps=int(total) if total is not None else None,
    )


def _from_text(line: str) -> _Reading:
    reading = _Reading()
    if match := _STEP.search(line):
        reading.step = int(match.group(1))
        reading.total_steps = int(match.group(2)) if match.group(2) else None
    if match := _EPOCH.search(line):
        reading.epoch = float(match.group(1))
        reading.total_epochs = int(match.group(2)) if match.group(2) else None
    val = _VAL_LOSS.search(line)
    if val:
        reading.val_loss = _finite(val.group(1))
    # The training loss is a ``loss`` that is not the validation one just read.
    for match in _TRAIN_LOSS.finditer(line):
        if val is None or not (val.start() <= match.start() < val.end()):
            reading.train_loss = _finite(match.group(1))
            break
    return reading


class _Builder:
    def __init__(self) -> None:
        self.summary = TrainingSummary()
        self.by_step: dict[int, TrainingPoint] = {}
        self.last_step = 0
        #: The step total the trainer's final record implies (runtime x step rate).
        self.implied_total: int | None = None

    def add(self, reading: _Reading) -> None:
        summary = self.summary
        if reading.total_steps:
            summary.total_steps = reading.total_steps
        if reading.total_epochs:
            summary.total_epochs = reading.total_epochs
        if not reading.has_loss:
            return
        step = reading.step
        if step is None:
            summary.steps_counted = True
            # A training record is the next step; an evaluation belongs to the last one.
            step = self.last_step + 1 if reading.train_loss is not None else self.last_step
        point = self.by_step.get(step)
        if point is None:
            point = self.by_step[step] = TrainingPoint(step)
        if reading.epoch is not None:
            point.epoch = reading.epoch
        if reading.train_loss is not None:
            point.train_loss = reading.train_loss
        if reading.val_loss is not None:
            point.val_loss = reading.val_loss
        self.last_step = max(self.last_step, step)

    def note(self, line: str, record: dict[str, Any] | None) -> None:
        """The non-curve facts: tokens, checkpoints, plan, start and end."""
        summary = self.summary
        stamp = _TIMESTAMP.search(line)
        when = stamp.group(1).replace("T", " ") if stamp else None
        if record is not None and "train_loss" in record:
            summary.average_loss = _finite(record["train_loss"])
            summary.finished_at = summary.finished_at or when
            self.implied_total = _implied_total(record)
        if match := _TOKENS.search(line):
            summary.consumed_tokens = int(match.group(1))
        if match := _FINAL_CHECKPOINT.search(line):
            summary.final_checkpoint = match.group(1)
        if (match := _SAVED_CHECKPOINT.search(line)) and match.group(1) not in (
            summary.saved_checkpoints
        ):
            summary.saved_checkpoints.append(match.group(1))
        if match := _PLAN.search(line):
            summary.total_epochs = int(match.group(1))
            summary.steps_per_epoch = int(match.group(2))
            summary.total_steps = int(match.group(3))
        if when and summary.started_at is None and _STARTED.search(line):
            summary.started_at = when
        if when and _FINISHED.search(line):
            summary.finished_at = when

    def result(self) -> TrainingSummary:
        summary = self.summary
        summary.points = [self.by_step[s] for s in sorted(self.by_step)]
        if summary.total_steps is None and self.implied_total:
            summary.total_steps = self.implied_total
            summary.total_steps_derived = True
        return summary


def _implied_total(record: dict[str, Any]) -> int | None:
    """Steps run, from a final record's ``train_runtime`` and ``train_steps_per_second``
    (the rate is rounded to 3 decimals: the nearest whole number of steps)."""
    runtime = _finite(record.get("train_runtime"))
    rate = _finite(record.get("train_steps_per_second"))
    if runtime is None or rate is None or runtime <= 0 or rate <= 0:
        return None
    return max(1, round(runtime * rate))


def summarize(lines: Iterable[str]) -> TrainingSummary:
    """Read a fine-tune job's log lines (oldest first) into points and figures."""
    builder = _Builder()
    first_step_time: str | None = None
    for raw in lines:
        line = str(raw)
        record = _record(line)
        reading = _from_record(record) if record is not None else _from_text(line)
        builder.add(reading)
        builder.note(line, record)
        if reading.has_loss and first_step_time is None and (stamp := _TIMESTAMP.search(line)):
            first_step_time = stamp.group(1).replace("T", " ")
    summary = builder.result()
    if summary.started_at is None:
        summary.started_at = first_step_time
    return summary

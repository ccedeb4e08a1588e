"""How a job learns: its loss curves, what it bills, and what its model answers (simulation).

Everything here is a deterministic simulation, not training. The curves follow the shapes
model-training-best-practices.md describes (training loss falls; validation loss "先下降后上
升", best at its minimum; a learning rate too high makes the model worse, too low changes
little) and the guide's epoch advice (under 10,000 examples 3-5 epochs, over it 1-2). With
``r = learning_rate / recommended`` (recommended 1e-5 for full training, 1e-4 for LoRA types;
also the default) and ``N`` training examples:

* ``speed = min(r, 3) * clamp((16 / batch_size) ** 0.25, 0.5, 2) * min(1, total_steps / 10)``
  and the effective epochs learned by step ``s`` are ``x = speed * s / steps_per_epoch``;
* ``unstable = 1.5 * max(0, log10(r) - 0.5)``: nothing below about 3x the recommended rate;
* ``floor = 0.5 + 0.4 * 8 / (8 + lora_rank)`` for LoRA types (``0.5`` for full training): a
  small rank learns less of the data;
* ``optimum = 1.5 + 2.5 / (1 + N / 10000)`` effective epochs (about 4 for small data);
* ``loss = 0.6 floor + (2.4 - 0.6 floor) e^-x + unstable (1 - e^-x)``;
* ``eval_loss = floor + (2.4 - floor) e^-x + 0.12 max(0, x - optimum) + unstable (1 - e^-x)``;
* ``miss = clamp((final eval_loss - floor) / (2.4 - floor), 0, 1)``: the share of prompts the
  model answers badly (computed whether or not validation was logged).

What the model answers is decided in :mod:`.recall` from what :func:`learn` stores when the
job succeeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import catalog
from .datasets import MAX_PAIRS, digest
from .state import JobRecord, Store

#: No page: what a job gets without these (the SDK sends ``{}``); lora_rank 64 is the guide's.
DEFAULT_HYPER: dict[str, int] = {"n_epochs": 3, "batch_size": 16, "max_length": 8192}
DEFAULT_LORA: dict[str, Any] = {"lora_rank": 64, "lora_alpha": 32, "lora_dropout": 0.1}
INITIAL_LOSS = 2.4
#: How fast the validation loss rises per effective epoch past the optimum.
OVERFIT_PER_EPOCH = 0.12
RECOMMENDED_LR = {"full": 1e-5, "lora": 1e-4}
#: No page gives the size of the preset (mixed-in) data: each preset example counts this much.
PRESET_EXAMPLE_TOKENS = 512
#: No page: ``data_augmentation`` without ``augmentation_ratio`` mixes 10 % (the page's first).
DEFAULT_AUGMENTATION_RATIO = 0.1


def _number(value: Any, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) and number > 0 else default


def recommended_lr(training_type: str) -> float:
    lora = training_type in catalog.EFFICIENT_TRAINING_TYPES
    return RECOMMENDED_LR["lora" if lora else "full"]


@dataclass(frozen=True)
class Curve:
    """The loss curves of one job, from its plan and hyperparameters."""

    speed: float
    steps_per_epoch: int
    total_steps: int
    unstable: float
    floor: float
    optimum: float
    learning_rate: float

    @classmethod
    def of(cls, job: JobRecord) -> Curve:
        hp = job.hyper_parameters
        lr = _number(hp.get("learning_rate"), recommended_lr(job.training_type))
        ratio = lr / recommended_lr(job.training_type)
        batch = _number(hp.get("batch_size"), DEFAULT_HYPER["batch_size"])
        speed = (
            min(ratio, 3.0)
            * min(2.0, max(0.5, (16 / batch) ** 0.25))
            * min(1.0, job.total_steps / 10)
        )
        floor = 0.5
        if job.training_type in catalog.EFFICIENT_TRAINING_TYPES:
            rank = _number(job.lora.get("lora_rank"), DEFAULT_LORA["lora_rank"])
            floor += 0.4 * 8 / (8 + rank)
        return cls(
            speed=speed,
            steps_per_epoch=job.steps_per_epoch,
            total_steps=job.total_steps,
            unstable=1.5 * max(0.0, math.log10(ratio) - 0.5),
            floor=floor,
            optimum=1.5 + 2.5 / (1 + job.train_examples / 10000),
            learning_rate=lr,
        )

    def _x(self, step: int) -> float:
        return self.speed * step / max(1, self.steps_per_epoch)

    def train_loss(self, step: int) -> float:
        decay = math.exp(-self._x(step))
        low = 0.6 * self.floor
        return low + (INITIAL_LOSS - low) * decay + self.unstable * (1 - decay)

    def eval_loss(self, step: int) -> float:
        x = self._x(step)
        decay = math.exp(-x)
        overfit = OVERFIT_PER_EPOCH * max(0.0, x - self.optimum)
        learned = self.floor + (INITIAL_LOSS - self.floor) * decay
        return learned + overfit + self.unstable * (1 - decay)

    def learning_rate_at(self, step: int) -> float:
        """The linear schedule (``lr_scheduler_type`` linear, the guide's recommendation)."""
        return self.learning_rate * (1 - step / (self.total_steps + 1))

    def miss(self) -> float:
        share = (self.eval_loss(self.total_steps) - self.floor) / (INITIAL_LOSS - self.floor)
        return min(1.0, max(0.0, share))


def evaluates(job: JobRecord) -> bool:
    """Validation runs with validation files, or with ``split`` (the console's "自动切分")."""
    return bool(job.validation_file_ids) or "split" in job.hyper_parameters


def mixed_tokens(hyper: dict[str, Any], train_examples: int) -> int:
    """``data_augmentation``: "按训练数据量的10%/5%/15%随机抽取混合" of preset examples."""
    if str(hyper.get("data_augmentation", "")).lower() not in ("true", "1"):
        return 0
    raw = hyper.get("augmentation_ratio")
    ratios = [_number(r, 0.0) for r in str(raw).split(",")] if raw else []
    ratio = sum(ratios) if ratios else DEFAULT_AUGMENTATION_RATIO
    return round(ratio * train_examples) * PRESET_EXAMPLE_TOKENS


def learn(store: Store, job: JobRecord) -> None:
    """When ``job`` succeeds: what its model knows (its pairs, then its lineage's) and how
    often it answers badly. Stored on the job, so nothing is re-read per request."""
    own: list[list[str]] = []
    for file_id in job.training_file_ids:
        own.extend(digest(store, file_id, job.base_model).pairs)
    curve = Curve.of(job)
    job.learned = (own + list(job.learned))[:MAX_PAIRS]
    job.answer_miss = round(curve.miss(), 4)
    job.answers_corrupted = curve.unstable > 0

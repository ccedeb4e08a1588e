"""The public entry point: validate one training file before it is uploaded.

``path`` may be a ``str``/``os.PathLike`` or anything with ``.open("rb")`` (Airflow's
``ObjectStoragePath``, ``pathlib.Path``); that is duck-typed so this module never imports
Airflow. A name ending in ``.zip`` is a Qwen-VL package; other files are JSONL.
"""

from __future__ import annotations

import os
from typing import IO

from airflow_dashscope.checks import catalog
from airflow_dashscope.client.request import Openable
from airflow_dashscope.training_data.cpt import check_cpt_example
from airflow_dashscope.training_data.dpo import DpoExampleCheck
from airflow_dashscope.training_data.report import ProblemCollector, ValidationReport
from airflow_dashscope.training_data.scan import ExampleCheck, scan_jsonl
from airflow_dashscope.training_data.sft import SftExampleCheck
from airflow_dashscope.training_data.tokens import TokenEstimate
from airflow_dashscope.training_data.vl import VlContentCheck
from airflow_dashscope.training_data.zip_package import check_vl_package

#: The Files API limit for one file (the document says 300 MB; read as MiB).
MAX_UPLOAD_BYTES = 300 * 1024**2
SFT_TYPES = frozenset({"sft", "efficient_sft"})
DPO_TYPES = frozenset({"dpo_full", "dpo_lora"})


TrainingFile = str | os.PathLike[str] | Openable


def validate_training_file(
    path: TrainingFile,
    training_type: str = "sft",
    *,
    thinking: bool = False,
    vl: bool = False,
    n_epochs: int | None = None,
    model: str | None = None,
    max_problems: int = 100,
) -> ValidationReport:
    """Stream ``path`` once and report every problem (the first ``max_problems`` in full).

    ``thinking``: SFT data for a thinking model (``<think>`` rules). ``vl``: a JSONL file of
    Qwen-VL SFT data (implied by a ``.zip``). ``n_epochs``: to estimate billed tokens.
    ``model``: the model the data will train (its chat template may add tokens; ``tokens.py``).
    Raises ``ValueError`` for option combinations that make no sense and ``OSError`` when
    the file cannot be opened; problems in the data are reported, never raised.
    """
    name = _display_name(path)
    is_zip = name.lower().endswith(".zip")
    _check_options(training_type, thinking=thinking, vl=vl or is_zip, n_epochs=n_epochs)
    if name.lower().endswith((".xls", ".xlsx")):
        raise ValueError(f"{name}: only JSONL (and Qwen-VL ZIP) files can be validated")
    sink = ProblemCollector(name, max_problems)
    estimate = TokenEstimate(model)
    with _open(path) as stream:
        if is_zip:
            check_vl_package(stream, sink, estimate, thinking=thinking)
        else:
            scan_jsonl(stream, sink, estimate, _example_check(training_type, thinking, vl))
            if estimate.bytes_read > MAX_UPLOAD_BYTES:
                sink.in_file(name)
                sink.error(
                    "",
                    f"file is {estimate.bytes_read / 1024**2:.0f} MB; the Files API takes "
                    "at most 300 MB a file (split it into several training files)",
                )
    return sink.build(training_type, estimate, n_epochs)


def _check_options(training_type: str, *, thinking: bool, vl: bool, n_epochs: int | None) -> None:
    if training_type not in catalog.TRAINING_TYPES:
        raise ValueError(
            f"training_type must be one of {', '.join(catalog.TRAINING_TYPES)}, "
            f"got {training_type!r}"
        )
    if vl and training_type not in SFT_TYPES:
        raise ValueError(f"Qwen-VL data is documented for sft/efficient_sft, not {training_type}")
    if thinking and training_type == "cpt":
        raise ValueError("thinking applies to chat data, not cpt")
    if n_epochs is not None and (
        isinstance(n_epochs, bool) or not isinstance(n_epochs, int) or n_epochs <= 0
    ):
        raise ValueError(f"n_epochs must be a positive integer, got {n_epochs!r}")


def _example_check(training_type: str, thinking: bool, vl: bool) -> ExampleCheck:
    if training_type == "cpt":
        return check_cpt_example
    if training_type in DPO_TYPES:
        return DpoExampleCheck(thinking=thinking)
    if vl:
        return SftExampleCheck(thinking=thinking, content_check=VlContentCheck())
    return SftExampleCheck(thinking=thinking)


def _display_name(path: TrainingFile) -> str:
    if isinstance(path, str):
        return path
    if isinstance(path, Openable):  # str() of an ObjectStoragePath keeps its protocol
        return str(path)
    return os.fsdecode(os.fspath(path))


def _open(path: TrainingFile) -> IO[bytes]:
    if isinstance(path, str):
        return open(path, "rb")
    if isinstance(path, Openable):
        return path.open("rb")
    return open(os.fspath(path), "rb")

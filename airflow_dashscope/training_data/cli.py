"""``python -m airflow_dashscope.training_data validate FILE...``: the validator from a shell.

Exit status: 0 when every file is valid, 1 when any has errors, 2 on usage errors (bad
options, a file that cannot be opened).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from airflow_dashscope.checks import catalog
from airflow_dashscope.training_data.report import ValidationReport
from airflow_dashscope.training_data.validate import validate_training_file

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_dashscope.training_data",
        description="Validate DashScope fine-tuning data before uploading it.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="validate training files")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--training-type", default="sft", choices=catalog.TRAINING_TYPES)
    validate.add_argument("--thinking", action="store_true", help="SFT data for thinking models")
    validate.add_argument("--vl", action="store_true", help="JSONL of Qwen-VL SFT data")
    validate.add_argument("--n-epochs", type=_positive_int, default=None)
    validate.add_argument(
        "--model", default=None, help="the model to train (its chat template may add tokens)"
    )
    validate.add_argument("--max-problems", type=_positive_int, default=100)
    validate.add_argument("--json", action="store_true", help="print the reports as JSON")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 on usage errors
    reports: list[ValidationReport] = []
    for file in args.files:
        try:
            reports.append(
                validate_training_file(
                    file,
                    args.training_type,
                    thinking=args.thinking,
                    vl=args.vl,
                    n_epochs=args.n_epochs,
                    model=args.model,
                    max_problems=args.max_problems,
                )
            )
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.json:
        print(json.dumps([report.to_dict() for report in reports], indent=2, ensure_ascii=False))
    else:
        print("\n".join(report.summary() for report in reports))
    return EXIT_OK if all(report.ok for report in reports) else EXIT_INVALID

"""Pre-flight validation of fine-tuning data: find a malformed line before paying for a job.

Standard library only, no Airflow imports: cheap to import at DAG-parse time.
"""

from airflow_dashscope.training_data.report import (
    DatasetStats,
    Problem,
    TrainingDataError,
    ValidationReport,
)
from airflow_dashscope.training_data.validate import validate_training_file

__all__ = [
    "DatasetStats",
    "Problem",
    "TrainingDataError",
    "ValidationReport",
    "validate_training_file",
]

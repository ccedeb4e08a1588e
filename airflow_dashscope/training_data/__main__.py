"""Run the dataset CLI: ``python -m airflow_dashscope.training_data validate FILE...``."""

import sys

from airflow_dashscope.training_data.cli import main

sys.exit(main())

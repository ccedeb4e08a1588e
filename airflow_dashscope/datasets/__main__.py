"""Run the dataset CLI: ``python -m airflow_dashscope.datasets validate FILE...``."""

import sys

from airflow_dashscope.datasets.cli import main

sys.exit(main())

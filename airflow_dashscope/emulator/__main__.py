"""``python -m airflow_dashscope.emulator``: print the base URL, serve until SIGINT/SIGTERM."""

from airflow_dashscope.emulator.runner import main

raise SystemExit(main())

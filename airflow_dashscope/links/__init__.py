"""Operator extra links: buttons in the Airflow UI that open a resource in the DashScope console."""

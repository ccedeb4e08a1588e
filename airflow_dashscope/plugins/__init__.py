"""The "Fine-tuning" tab and the "DashScope" page in Airflow's UI (an Airflow >= 3.1 plugin).

Registered through the provider's metadata (``plugins`` in ``get_provider_info``) and the
``airflow.plugins`` entry point, so installing the package is enough. Only the API server
imports the web parts (:mod:`airflow_dashscope.plugins.app`).
"""

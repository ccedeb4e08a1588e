"""Apache Airflow provider for Alibaba Cloud Model Studio (DashScope) fine-tuning.

Importing this package is cheap and does no I/O: DAG files import it at parse time.
"""

__version__ = "0.1.0"

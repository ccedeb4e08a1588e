"""Scoring models on held-out examples: the pieces behind ``DashScopeEvaluateModelOperator``.

Each module holds one concern: reading the held-out data (``examples``), scoring an answer
(``scorers``), the statistics (``stats``), calling the models (``calls``), the pairwise judge
(``judge``), the gate (``gate``), the per-example results file (``results``), the cost before
and after (``cost``) and the summary (``summary``). None imports Airflow at module level except
where a task runs it.
"""

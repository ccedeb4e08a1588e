"""What is checked before money is spent: the documented model table and request parameters.

Pure data and functions, no I/O: operators call them before any upload or create, and some of
them run at DAG parse time on literal values.
"""

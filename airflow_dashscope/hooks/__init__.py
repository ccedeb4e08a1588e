from airflow_dashscope.hooks.dashscope import DashScopeHook

__all__ = ["DashScopeHook"]

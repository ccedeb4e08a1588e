"""Apache Airflow provider for Alibaba Cloud Model Studio (DashScope) fine-tuning.

Importing this package is cheap and does no I/O: DAG files import it at parse time. The
subpackages export their classes on first use (:func:`lazy_exports`, PEP 562), so a DAG file
that imports one operator loads that operator's module and no other; the client, its pydantic
models and the triggers load when a task runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__version__ = "0.1.0"


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``homes`` maps a name to its module."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(importlib.import_module(package), name, value)  # later lookups skip this
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(importlib.import_module(package)), *homes})

    return __getattr__, __dir__

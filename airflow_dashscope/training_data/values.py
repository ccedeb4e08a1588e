"""Small predicates on parsed JSON values, worded for problem messages."""

from __future__ import annotations

import math

_REPR_LIMIT = 40


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def short_repr(value: object) -> str:
    """``repr`` cut short, so a huge value does not flood the log."""
    text = repr(value) if isinstance(value, (str, int, float, bool)) or value is None else None
    if text is None:
        return json_type(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def is_number(value: object) -> bool:
    """A finite JSON number (booleans are not numbers here, though Python says they are)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

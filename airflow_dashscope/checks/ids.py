"""Resource ids as the operators take them: one id or several, whatever a template gave."""

from __future__ import annotations

from collections.abc import Sequence


def as_id_list(value: str | Sequence[str] | None) -> list[str]:
    """One id (e.g. an upload task's ``.output``) or several, as a list of non-empty ids.

    An empty id (a template that rendered to nothing) is dropped rather than sent: the
    request checks then see that no file was named, and lineage names no dataset for it.
    """
    if not value:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value if item]

"""Transparent pagination: one flow walks every page of a list endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from airflow_dashscope.client.request import ApiRequest, Flow

T = TypeVar("T")


def every_page(
    page_request: Callable[[int], ApiRequest],
    parse_page: Callable[[Any], tuple[list[T], int]],
    *,
    max_pages: int = 1000,
) -> Flow[list[T]]:
    """All items of a paged list; stops at ``total``, at an empty page, or at ``max_pages``."""
    items: list[T] = []
    for page_no in range(1, max_pages + 1):
        body = yield page_request(page_no)
        page_items, total = parse_page(body)
        items.extend(page_items)
        if not page_items or len(items) >= total:
            break
    return items

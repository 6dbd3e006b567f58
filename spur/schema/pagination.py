"""Relay connections with opaque offset cursors and a hard page limit."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Generic, TypeVar

import strawberry

from spur.api.errors import BadUserInput

T = TypeVar("T")
MAX_PAGE = 100
MAX_OFFSET_DIGITS = 9


@strawberry.type(description="Where a page ends and whether more follow.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="One item of a page and the cursor that points at it.")
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type(description="A page of a longer list.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def page_bounds(first: int, after: str | None) -> tuple[int, int]:
    """Offset and limit for a page; `first` is between 1 and 100."""
    if not 0 < first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
    return (_offset(after) if after else 0), first


def connection(items: Sequence[T], offset: int, first: int) -> Connection[T]:
    """A page from `items`, fetched with one extra row to learn of a next page."""
    page = list(items[:first])
    edges = [Edge(node=item, cursor=_cursor(offset + i)) for i, item in enumerate(page)]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(items) > first,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def _cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"o:{position}".encode()).decode()


def _offset(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        prefix, number = text.split(":")
    except ValueError as error:
        raise BadUserInput("Malformed cursor.", field="after") from error
    # ASCII digits, few enough that the SQL OFFSET stays in range.
    if prefix != "o" or not (number.isascii() and number.isdigit()):
        raise BadUserInput("Malformed cursor.", field="after")
    if len(number) > MAX_OFFSET_DIGITS:
        raise BadUserInput("Malformed cursor.", field="after")
    return int(number) + 1

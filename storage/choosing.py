"""Long lists a page at a time, found by name, with the database doing the work: it matches
the search against each name's folded key (storage.text.folded), counts what matches and
returns one page, so a list of 10,000 people costs two small queries, not 10,000 rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.text import folded

T = TypeVar("T")
# Longer than any name the bot keeps (a location's, 100 characters): a search longer than
# this matches nothing, and is refused before it reaches here.
SEARCH_MAX = 100


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    """One page of a list: what it shows, how many match in all, and where the page begins."""

    shown: list[T]
    matching: int  # everything the search matches (everything, with no search)
    offset: int  # the first shown, from 0; a page past the end (an old button) is the last

    @property
    def last(self) -> int:
        """The number of the last one shown, from 1 (0 when nothing is shown)."""
        return self.offset + len(self.shown)


def named(key: Any, search: str) -> ColumnElement[bool]:
    """The rows whose name contains the search, whatever the case or accents of either: `key`
    is the name's folded column. No search: every row."""
    needle = folded(search)
    if not needle:
        return true()
    condition: ColumnElement[bool] = key.contains(needle, autoescape=True)
    return condition


def clamp(offset: int, matching: int, limit: int) -> int:
    """A page's first row: an offset at or past the end (fewer match now than when the button
    was made) shows the last page; a page size of 0 counts only."""
    if limit <= 0 or matching == 0:
        return 0
    return max(0, min(offset, (matching - 1) // limit * limit))


async def paged(
    session: AsyncSession, query: Select[Any], *, order: tuple[Any, ...], offset: int, limit: int
) -> tuple[list[Any], int, int]:
    """The rows (one entity each) of `query` from `offset` (clamped), `limit` of them in
    `order`, how many there are in all, and the offset used."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    matching = int(await session.scalar(counted) or 0)
    offset = clamp(offset, matching, limit)
    if limit <= 0 or matching == 0:
        return [], matching, offset
    rows = (await session.scalars(query.order_by(*order).offset(offset).limit(limit))).all()
    return list(rows), matching, offset

"""A week of the programme as a grid, locations by days: each cell is what a location's lunches
that day add up to (filled, short, nobody booked, cancelled), for /week's picture and the same
as a spreadsheet. The lunches are counted as the programme's day counts them
(storage/programme_day.py), in the same five statements, however many locations.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from storage import audit, spreadsheet
from storage.db import Database
from storage.models import Location, LunchSession, Role
from storage.programme_day import Lunch, Tally, day_span, lunches_of, tally
from storage.roles import coordinator_scope, require_role
from storage.text import folded

DAYS = 7
WEEKEND = (5, 6)  # Saturday and Sunday: shown only when a lunch runs on them


class CellState(enum.StrEnum):
    NONE = "none"  # no lunch there that day
    FILLED = "filled"  # every place held
    SHORT = "short"  # places to fill
    EMPTY = "empty"  # places needed and nobody holds one
    CANCELLED = "cancelled"  # every lunch that day cancelled, or marked as did not run


@dataclass(frozen=True, kw_only=True)
class WeekCell:
    state: CellState
    tally: Tally

    @property
    def not_run(self) -> bool:
        """Cancelled only in the sense that it did not run (not one was cancelled)."""
        return (
            self.state is CellState.CANCELLED
            and self.tally.not_run > 0
            and self.tally.cancelled == 0
        )


@dataclass(frozen=True, kw_only=True)
class WeekRow:
    location_id: int
    name: str
    cells: tuple[WeekCell, ...]  # one a day of the week's days
    tally: Tally


@dataclass(frozen=True, kw_only=True)
class Week:
    monday: date
    days: tuple[date, ...]  # Monday to Friday, and a weekend day when a lunch runs on it
    rows: tuple[WeekRow, ...]  # the locations with a lunch that week, worst gaps first
    tally: Tally
    runs: int  # open locations the reader runs
    quiet: int  # of those, with no lunch this week


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def cell(lunches: Sequence[Lunch], now: datetime) -> WeekCell:
    counted = tally(lunches, now)
    if not lunches:
        state = CellState.NONE
    elif counted.lunches == 0:
        state = CellState.CANCELLED
    elif counted.free == 0:
        state = CellState.FILLED
    elif counted.free == counted.places:
        state = CellState.EMPTY
    else:
        state = CellState.SHORT
    return WeekCell(state=state, tally=counted)


async def week(
    db: Database, *, actor_telegram_id: int, monday: date, tz: ZoneInfo, now: datetime
) -> Week:
    """The week from `monday` at the locations the coordinator runs (a site lead: their own)."""
    start, _ = day_span(monday, tz)
    _, end = day_span(monday + timedelta(days=DAYS - 1), tz)
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        scope = await coordinator_scope(session, actor.id)
        runs = select(func.count()).select_from(Location).where(Location.archived_at.is_(None))
        ids = (
            select(LunchSession.id)
            .join(Location, Location.id == LunchSession.location_id)
            .where(
                LunchSession.starts_at >= start,
                LunchSession.starts_at < end,
                Location.archived_at.is_(None),
            )
        )
        if scope is not None:
            runs = runs.where(Location.id.in_(scope))
            ids = ids.where(LunchSession.location_id.in_(scope))
        run = int(await session.scalar(runs) or 0)
        lunches = await lunches_of(session, ids, names=False)
    every = [monday + timedelta(days=n) for n in range(DAYS)]
    by_cell: defaultdict[tuple[int, date], list[Lunch]] = defaultdict(list)
    names: dict[int, str] = {}
    for lunch in lunches:
        by_cell[lunch.location_id, lunch.starts_at.astimezone(tz).date()].append(lunch)
        names[lunch.location_id] = lunch.location_name
    used = {day for _, day in by_cell}
    days = tuple(day for day in every if day.weekday() not in WEEKEND or day in used)
    rows = [
        WeekRow(
            location_id=location_id,
            name=name,
            cells=tuple(cell(by_cell.get((location_id, day), []), now) for day in days),
            tally=_row_tally(by_cell, location_id, days, now),
        )
        for location_id, name in names.items()
    ]
    rows.sort(key=_worst_first)
    return Week(
        monday=monday,
        days=days,
        rows=tuple(rows),
        tally=tally(lunches, now),
        runs=run,
        quiet=max(0, run - len(rows)),
    )


def _row_tally(
    by_cell: dict[tuple[int, date], list[Lunch]],
    location_id: int,
    days: Sequence[date],
    now: datetime,
) -> Tally:
    return tally([lunch for day in days for lunch in by_cell.get((location_id, day), [])], now)


def _worst_first(row: WeekRow) -> tuple[int, int, str, int]:
    return (-row.tally.free, -row.tally.empty, folded(row.name), row.location_id)


# --- the week as a spreadsheet ----------------------------------------------------------------


def cell_words(week_cell: WeekCell) -> str:
    """A cell as the spreadsheet writes it: "4 of 6 booked; 2 to fill" ("4 of 6", not "4/6",
    which a spreadsheet would read as a date)."""
    t = week_cell.tally
    match week_cell.state:
        case CellState.NONE:
            return ""
        case CellState.CANCELLED:
            return "did not run" if week_cell.not_run else "cancelled"
    words = f"{t.booked} of {t.places} booked"
    if t.offered:
        words += f"; {t.offered} offered"
    if t.free:
        words += f"; {t.free} to fill"
    return words


def week_header(days: Sequence[date]) -> list[str]:
    return [
        "Location",
        *(f"{day:%a} {day.isoformat()}" for day in days),
        "Lunches",
        "Places",
        "Booked",
        "To fill",
        "Cancelled or did not run",
    ]


def week_file(found: Week) -> spreadsheet.CsvFile:
    """One row a location, one column a day, in the picture's order (worst gaps first)."""
    rows: list[list[spreadsheet.Cell]] = [
        [
            row.name,
            *(cell_words(week_cell) for week_cell in row.cells),
            row.tally.lunches,
            row.tally.places,
            row.tally.booked,
            row.tally.free,
            row.tally.cancelled + row.tally.not_run,
        ]
        for row in found.rows
    ]
    return spreadsheet.file(week_header(found.days), rows)


async def export_week(
    db: Database, *, actor_telegram_id: int, monday: date, tz: ZoneInfo, now: datetime
) -> tuple[Week, spreadsheet.CsvFile]:
    """The week's file for the coordinator who asked: audited, like every export, unless it
    is empty."""
    found = await week(db, actor_telegram_id=actor_telegram_id, monday=monday, tz=tz, now=now)
    made = week_file(found)
    if made.rows == 0:  # nothing to send: nothing was exported
        return found, made
    async with db.transaction() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="week.exported",
            monday=monday.isoformat(),
            locations=len(found.rows),
            rows=made.rows,
        )
    return found, made

"""`lunchbot import sessions.csv`: a holiday's sessions from a spreadsheet, all or nothing.

Columns: location, date, start, end, then one column per job (its header is the job's name, its
cells the places needed; empty or 0 means not needed). Dates are YYYY-MM-DD or DD/MM/YYYY, times
HH:MM in the programme's time zone. Every problem is reported with its line number and then
nothing is written; a session that already exists (same location and start) is left as it is,
so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage import audit
from storage.db import Database
from storage.models import JOB_NAME_MAX, Location
from storage.rota import MAX_PLACES_PER_JOB, JobSpec, add_sessions
from storage.text import one_line, whole_number

FIXED_COLUMNS = ("location", "date", "start", "end")
MAX_ROWS = 5_000
MAX_ERRORS_SHOWN = 20


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    created: int
    existing: int
    errors: list[str]


@dataclass(frozen=True)
class _Row:
    line: int
    location: str
    starts_at: datetime
    ends_at: datetime
    jobs: tuple[JobSpec, ...]


async def import_sessions(
    db: Database, text: str, *, tz: ZoneInfo, jobs_needing_check: frozenset[str], now: datetime
) -> ImportResult:
    rows, errors = _parse(text, tz, jobs_needing_check)
    errors += [
        f"line {row.line}: that session is in the past" for row in rows if row.starts_at <= now
    ]
    async with db.transaction() as session:
        names = {
            name.lower(): (location_id, archived)
            for location_id, name, archived in (
                await session.execute(
                    select(Location.id, Location.name, Location.archived_at.is_not(None))
                )
            )
            .tuples()
            .all()
        }
        for row in rows:
            found = names.get(row.location.lower())
            if found is None:
                errors.append(
                    f"line {row.line}: no location called “{row.location}” "
                    "(add it in the bot first, or check the spelling)"
                )
            elif found[1]:
                errors.append(f"line {row.line}: “{row.location}” is archived")
        if errors:
            errors.sort(key=lambda error: int(error.split()[1].rstrip(":")))  # by line
            return ImportResult(created=0, existing=0, errors=errors[:MAX_ERRORS_SHOWN])
        created = 0
        for row in rows:
            location_id = names[row.location.lower()][0]
            created += await add_sessions(
                session, location_id, [(row.starts_at, row.ends_at)], row.jobs, now
            )
        audit.record(
            session,
            at=now,
            actor_id=None,
            action="sessions.imported",
            created=created,
            rows=len(rows),
        )
        return ImportResult(created=created, existing=len(rows) - created, errors=[])


def _parse(
    text: str, tz: ZoneInfo, jobs_needing_check: frozenset[str]
) -> tuple[list[_Row], list[str]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))  # spreadsheets add a BOM
    try:
        header = [one_line(cell).lower() for cell in next(reader)]
        while header and not header[-1]:
            header.pop()  # spreadsheets leave empty columns at the end
    except StopIteration:
        return [], ["line 1: the file is empty; the first line names the columns"]
    if tuple(header[:4]) != FIXED_COLUMNS or len(header) < 5:
        return [], [
            f"line 1: the columns must be {', '.join(FIXED_COLUMNS)}, then one column "
            "per job (for example cook, server, driver)"
        ]
    jobs = header[4:]
    bad_jobs = [job for job in jobs if not job or len(job) > JOB_NAME_MAX]
    if bad_jobs or len(set(jobs)) != len(jobs):
        return [], [
            f"line 1: each job column needs a distinct name of up to {JOB_NAME_MAX} characters"
        ]
    rows: list[_Row] = []
    errors: list[str] = []
    seen: dict[tuple[str, datetime], int] = {}
    for record in reader:
        # The line where the record starts, even after a quoted cell ran over several lines.
        line = reader.line_num - sum(cell.count("\n") for cell in record)
        if not any(cell.strip() for cell in record):
            continue
        cells = list(record)
        while len(cells) > 4 + len(jobs) and not cells[-1].strip():
            cells.pop()
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(f"line {line}: more than {MAX_ROWS} rows; split the file")
            break
        row = _row(
            line,
            cells=cells,
            jobs=jobs,
            tz=tz,
            jobs_needing_check=jobs_needing_check,
            errors=errors,
        )
        if row is None:
            continue
        key = (row.location.lower(), row.starts_at)
        if key in seen:
            errors.append(f"line {line}: the same session as line {seen[key]}")
            continue
        seen[key] = line
        rows.append(row)
    return rows, errors


def _row(
    line: int,
    *,
    cells: list[str],
    jobs: list[str],
    tz: ZoneInfo,
    jobs_needing_check: frozenset[str],
    errors: list[str],
) -> _Row | None:
    if len(cells) != 4 + len(jobs):
        errors.append(f"line {line}: expected {4 + len(jobs)} cells, found {len(cells)}")
        return None
    location = one_line(cells[0])
    day = parse_date(cells[1])
    start, end = parse_time(cells[2]), parse_time(cells[3])
    problems = []
    if not location:
        problems.append("the location is empty")
    if day is None:
        problems.append(f"date {cells[1].strip()!r} is not YYYY-MM-DD or DD/MM/YYYY")
    if start is None or end is None:
        problems.append("start and end must be times like 11:30")
    elif end <= start:
        problems.append("the session must end after it starts")
    specs = []
    for job, cell in zip(jobs, cells[4:], strict=True):
        places = whole_number(cell.strip() or "0", MAX_PLACES_PER_JOB)
        if places is None:
            problems.append(
                f"{job}: {cell.strip()!r} is not a number from 0 to {MAX_PLACES_PER_JOB}"
            )
        elif places > 0:
            specs.append(JobSpec(job=job, places=places, needs_check=job in jobs_needing_check))
    if not specs and not problems:
        problems.append("no job needs anyone")
    if problems or day is None or start is None or end is None:
        errors.append(f"line {line}: " + "; ".join(problems))
        return None
    starts_at = datetime.combine(day, start, tzinfo=tz).astimezone(UTC)
    ends_at = datetime.combine(day, end, tzinfo=tz).astimezone(UTC)
    if ends_at <= starts_at:
        errors.append(
            f"line {line}: those times fall in the hour the clocks change; please choose others"
        )
        return None
    return _Row(
        line=line, location=location, starts_at=starts_at, ends_at=ends_at, jobs=tuple(specs)
    )


def parse_date(text: str) -> date | None:
    if not text.isascii():  # strptime would read other scripts' digits
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 (a bare date)
        except ValueError:
            continue
    return None


def parse_time(text: str) -> time | None:
    if not text.isascii():
        return None
    for pattern in ("%H:%M", "%H.%M"):
        try:
            return datetime.strptime(text.strip(), pattern).time()  # noqa: DTZ007 (a bare time)
        except ValueError:
            continue
    return None

"""`lunchbot import sessions.csv`: a holiday's sessions from a spreadsheet, all or nothing.

Columns: location, date, start, end, then one column per job (its header is the job's name, its
cells the places needed; empty or 0 means not needed). Dates are YYYY-MM-DD, DD/MM/YYYY or
DD.MM.YYYY, times HH:MM in the programme's time zone. Every problem is reported with its line
number and then nothing is written; a session that already exists (same location and start) is
left as it is, so importing the same file twice changes nothing. Locations not yet in the bot
are an error, or, when asked (`create_locations`), added.

Spreadsheets save CSV in more than one way, and each is read or refused with what to do: UTF-8
with or without a byte-order mark; UTF-16 (Excel's "Unicode Text", tabs between cells); cells
separated by commas, semicolons (Excel where a comma is the decimal point) or tabs. Excel's
plain "CSV (Comma delimited)" is Windows-1252, not UTF-8: when it holds anything beyond plain
ASCII ("St Mark’s") it is refused with how to save it as UTF-8, rather than guessed at.

An Excel or LibreOffice workbook (.xlsx, .xls, .ods) is refused with the same advice: it is not
text, and reading it would mean guessing which sheet and which cells.

The same rules serve the command line (`import_sessions`, run by whoever runs the bot) and a
coordinator who sends the file to the bot in chat (`review` first, writing nothing, then
`import_sessions` with their `actor_telegram_id`: a site lead imports only at their own
locations, and only a coordinator of the whole programme adds new ones). The sessions are
inserted in bulk (storage.rota_plan.insert_sessions): a summer at 200 locations is 8,000 rows.

`example(today)` is a sample file for the coming week, so that the README's example imports on
whatever day someone follows it.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, dates
from storage.db import Database
from storage.models import JOB_NAME_MAX, LOCATION_NAME_MAX, Location, LunchSession, Role
from storage.roles import coordinator_scope, require_role
from storage.rota import MAX_PLACES_PER_JOB, JobSpec
from storage.rota_plan import NewSession, insert_sessions
from storage.text import one_line, whole_number

FIXED_COLUMNS = ("location", "date", "start", "end")
MAX_ROWS = 10_000  # a summer of 8,000 sessions at 200 locations, with room to spare
MAX_ERRORS_SHOWN = 20
# Workbooks are zip files (.xlsx, .ods) or OLE2 compound files (.xls), never text.
WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
DELIMITERS = (",", ";", "\t")
SAVE_AS_UTF8 = (
    "save it again as UTF-8: in Excel, File > Save As > “CSV UTF-8 (Comma delimited) (*.csv)”; "
    "in LibreOffice, Save As > Text CSV, with the character set “Unicode (UTF-8)”"
)


# A lunch that ran but was never planned is recorded in the bot, with its counts and audited,
# not imported as if it were still to come.
BEGUN = (
    "that session has begun, so it is not imported; if it ran without being planned, record "
    "it in the bot: /today, then “➕ Record an unplanned lunch” (today or the past week)"
)
TOO_FAR = (
    f"sessions are planned from today to {dates.PLANNING.ahead.days} days ahead, as in the bot; "
    "check the year"
)


class Unreadable(Exception):
    """The file's bytes are not text this import can read; the message says how to save it."""


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    created: int
    existing: int
    errors: list[str]
    new_locations: list[str] = field(default_factory=list)
    locations: int = 0  # the locations the sessions are at


@dataclass(frozen=True, kw_only=True)
class ImportReview:
    """What importing a file would do, before anything is written."""

    sessions: int  # the sessions the file describes (its rows that are right)
    new: int  # to add (at new locations too, if they are added)
    existing: int  # already in the bot: left as they are
    locations: int  # the locations the file names
    first: date | None  # the first and last day, in the programme's time zone
    last: date | None
    errors: list[str]  # every problem, by line, but locations not in the bot yet
    # Named in the file but not in the bot: added if asked (by a programme coordinator), else
    # each line naming one is a problem.
    new_locations: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """The text of a CSV file as a spreadsheet saved it; raises Unreadable."""
    if data.startswith(WORKBOOK_SIGNATURES):
        raise Unreadable(
            f"this is a spreadsheet workbook (Excel or LibreOffice), not a CSV file; {SAVE_AS_UTF8}"
        )
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")  # Excel's "Unicode Text"
        if b"\x00" in data:
            raise Unreadable(f"this file is not a CSV text file; {SAVE_AS_UTF8}")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Unreadable(
            f"line {line}: this file is not UTF-8 (Excel's plain “CSV (Comma delimited)” is "
            f"Windows-1252, which would change letters like ’ and é); {SAVE_AS_UTF8}"
        ) from exc


def example(today: date) -> str:
    """A sample file: Monday to Thursday of the coming week at two locations, one with each
    date format."""
    monday = today + timedelta(days=7 - today.weekday())
    days = [monday + timedelta(days=n) for n in range(4)]
    lines = ["location,date,start,end,cook,server,driver"]
    lines += [f"St Mark's church hall,{day.isoformat()},11:30,13:30,2,3,1" for day in days]
    lines += [
        f"Riverside community centre,{day.strftime('%d/%m/%Y')},12:00,14:00,2,2," for day in days
    ]
    return "\r\n".join(lines) + "\r\n"


@dataclass(frozen=True)
class _Row:
    line: int
    location: str
    starts_at: datetime
    ends_at: datetime
    jobs: tuple[JobSpec, ...]


async def import_sessions(
    db: Database,
    text: str,
    *,
    tz: ZoneInfo,
    jobs_needing_check: frozenset[str],
    now: datetime,
    create_locations: bool = False,
    actor_telegram_id: int | None = None,
) -> ImportResult:
    """Import the file, all or nothing. `actor_telegram_id`: the coordinator who sent it in chat
    (None: the command line, whose operator runs the bot)."""
    rows, errors = _parse(text, tz, jobs_needing_check)
    async with db.transaction() as session:
        actor, scope = await _actor(session, actor_telegram_id)
        found = await _assess(
            session, rows, errors, tz=tz, now=now, scope=scope, create=create_locations
        )
        errors += found.missing_lines if not create_locations else []
        if errors:
            return ImportResult(created=0, existing=0, errors=_by_line(errors)[:MAX_ERRORS_SHOWN])
        names = found.names
        for name in found.missing.values():
            location = Location(name=name, created_at=now)
            session.add(location)
            await session.flush()
            names[name.lower()] = (location.id, False)
            audit.record(
                session,
                at=now,
                actor_id=actor,
                action="location.created",
                subject=("location", location.id),
                by="import",
            )
        wanted = [
            NewSession(
                location_id=names[row.location.lower()][0],
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                jobs=row.jobs,
            )
            for row in rows
            if (names[row.location.lower()][0], row.starts_at) not in found.there
        ]
        created = sum((await insert_sessions(session, wanted, now)).values())
        audit.record(
            session,
            at=now,
            actor_id=actor,
            action="sessions.imported",
            created=created,
            rows=len(rows),
            new_locations=len(found.missing),
        )
        return ImportResult(
            created=created,
            existing=len(rows) - created,
            errors=[],
            new_locations=list(found.missing.values()),
            locations=len({row.location.lower() for row in rows}),
        )


async def review(
    db: Database,
    text: str,
    *,
    tz: ZoneInfo,
    jobs_needing_check: frozenset[str],
    now: datetime,
    actor_telegram_id: int,
) -> ImportReview:
    """What importing the file would do, writing nothing: every problem by line, and the
    locations it names that are not in the bot yet (which a programme coordinator may add; for
    a site lead they are problems, as locations outside their own are)."""
    rows, errors = _parse(text, tz, jobs_needing_check)
    async with db.read() as session:
        _, scope = await _actor(session, actor_telegram_id)
        found = await _assess(session, rows, errors, tz=tz, now=now, scope=scope, create=True)
    if scope is not None:  # a site lead adds no location: each line naming one is a problem
        errors += found.missing_lines
    new_names = {name.lower() for name in found.missing.values()}
    existing = sum(
        1
        for row in rows
        if row.location.lower() not in new_names
        and (found.names.get(row.location.lower(), (0, False))[0], row.starts_at) in found.there
    )
    days = [row.starts_at.astimezone(tz).date() for row in rows]
    return ImportReview(
        sessions=len(rows),
        new=len(rows) - existing,
        existing=existing,
        locations=len({row.location.lower() for row in rows}),
        first=min(days, default=None),
        last=max(days, default=None),
        errors=_by_line(errors),
        new_locations=[] if scope is not None else list(found.missing.values()),
    )


@dataclass
class _Assessment:
    names: dict[str, tuple[int, bool]]  # lower case: the location's id, and if it is archived
    missing: dict[str, str]  # lower case: as first written, for locations not in the bot
    missing_lines: list[str]  # the problem of each line naming one, if they are not added
    there: set[tuple[int, datetime]]  # (location, start) of the sessions already in the bot


async def _assess(
    session: AsyncSession,
    rows: list[_Row],
    errors: list[str],
    *,
    tz: ZoneInfo,
    now: datetime,
    scope: frozenset[int] | None,
    create: bool,
) -> _Assessment:
    """The rules that need the database, adding to `errors`: sessions begun or too far ahead,
    locations archived or (for a site lead) not theirs, and which sessions already exist."""
    today = now.astimezone(tz).date()
    for row in rows:
        if row.starts_at <= now:
            errors.append(f"line {row.line}: {BEGUN}")
        elif not dates.PLANNING.holds(today, row.starts_at.astimezone(tz).date()):
            # The bot's own window for planning: a year's slip (2062 for 2026) is caught.
            errors.append(f"line {row.line}: {TOO_FAR}")
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
    missing: dict[str, str] = {}
    missing_lines: list[str] = []
    for row in rows:
        found = names.get(row.location.lower())
        if scope is not None and (found is None or found[0] not in scope):
            errors.append(
                f"line {row.line}: “{row.location}” is not one of your locations (a site lead "
                "imports sessions at their own; ask a programme coordinator)"
            )
        elif found is None:
            if create and len(row.location) > LOCATION_NAME_MAX:
                errors.append(
                    f"line {row.line}: a location's name has at most {LOCATION_NAME_MAX} characters"
                )
            missing.setdefault(row.location.lower(), row.location)
            missing_lines.append(
                f"line {row.line}: no location called “{row.location}” (check the "
                "spelling, add it in the bot with /locations, or import with "
                "--create-locations to add it)"
            )
        elif found[1]:
            errors.append(f"line {row.line}: “{row.location}” is archived")
    known = [
        (names[row.location.lower()][0], row.starts_at)
        for row in rows
        if row.location.lower() in names
    ]
    return _Assessment(
        names=names,
        missing=missing,
        missing_lines=missing_lines,
        there=await _existing(session, known),
    )


async def _existing(
    session: AsyncSession, wanted: list[tuple[int, datetime]]
) -> set[tuple[int, datetime]]:
    """Which of these (location, start) already hold a session: one query over the locations
    and days the file spans, matched here."""
    if not wanted:
        return set()
    starts = [starts_at for _, starts_at in wanted]
    rows = await session.execute(
        select(LunchSession.location_id, LunchSession.starts_at).where(
            LunchSession.location_id.in_({location_id for location_id, _ in wanted}),
            LunchSession.starts_at >= min(starts),
            LunchSession.starts_at <= max(starts),
        )
    )
    return set(rows.tuples().all()) & set(wanted)


async def _actor(
    session: AsyncSession, telegram_id: int | None
) -> tuple[int | None, frozenset[int] | None]:
    """Who imports (None: the command line) and the locations they are limited to, if any."""
    if telegram_id is None:
        return None, None
    actor = await require_role(session, telegram_id, Role.COORDINATOR)
    return actor.id, await coordinator_scope(session, actor.id)


def _by_line(errors: list[str]) -> list[str]:
    return sorted(errors, key=lambda error: int(error.split()[1].rstrip(":")))


def _parse(
    text: str, tz: ZoneInfo, jobs_needing_check: frozenset[str]
) -> tuple[list[_Row], list[str]]:
    text = text.lstrip("\ufeff")  # spreadsheets add a BOM
    first = text.split("\n", 1)[0]
    # Excel writes semicolons where a comma is the decimal point, and tabs in "Unicode Text".
    delimiter = max(DELIMITERS, key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
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
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
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

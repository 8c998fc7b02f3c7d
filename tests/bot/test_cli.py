"""The `lunchbot` command as a person at a terminal meets it: one clear line for each problem,
and the demo's transcript."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import csv
import io
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot import leader
from storage import locations, migrate, people, rota
from storage.db import Database
from storage.rota import JobSpec, SessionPlan
from tests.support import SKIP_POSTGRES, postgres_admin_url, sqlite_url

ROOT = Path(__file__).resolve().parents[2]
GOOD_TOKEN = "123456789:AAHk1-abcdefghijklmnopqrstuvwxyz0123"


def lunchbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "LUNCHBOT_CONFIG")
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# What the demo's people type or are called: a referral's allergy and family reference, a
# volunteer's name, a location's address, a school.
SEEDED = ("nut allergy", "HS-014", "Sam Taylor", "12 Church Lane", "Hillside Primary")


def test_the_demo_runs_with_no_token_and_prints_its_story(tmp_path: Path) -> None:
    """...and its log, even with --verbose, carries no word a person typed, no name, no
    child's detail, no SQL values and no repeated noise, from our code or a library's."""
    result = lunchbot("--verbose", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out, log = result.stdout, result.stderr
    for value in SEEDED:
        assert value in out  # the demo did use it...
        assert value not in log, value  # ...and the log never carries it
    # The database drivers' statement lines, and the scheduler's "skipped: maximum number of
    # running instances reached" for a sweep still at work, are not events worth a line.
    for noise in ("aiosqlite", "asyncpg", "maximum number of running instances", "findfont"):
        assert noise not in log, noise
    assert "Rachel (coordinator) sends: /start" in out
    # The dates agree with the bot's own: the invite made on 1 July expires Sat 4 Jul.
    assert "== 1 July: Rachel, the coordinator, sets up ==" in out
    assert "expires Sat 4 Jul 2026" in out
    assert "Here is a one-time invite link for a contact at Hillside Primary" in out
    assert "Mr Okafor (school contact) taps [✅ I agree]" in out
    assert "Booked: you're a server at St Mark's church hall" in out
    assert "Saved: 38 meals served and 31 children" in out
    assert "📨 Received: HS-014." in out
    # Placed on the days a lunch runs there, and the school told those dates.
    assert "✖ No lunch there: Tue 4 Aug, Thu 6 Aug" in out
    assert "📬 Referral HS-014: placed at St Mark's church hall on Tue 28 Jul and Thu" in out
    assert "⏰ Tomorrow 11:30-13:30: you're driver at St Mark's church hall" in out
    assert "✅ HS-014 (Hillside Primary): 2 children" in out
    # It ends with a celebration: a milestone, a win approved and announced, a broadcast, the
    # week's digest with its chart.
    assert "🎉 25 meals served!" in out
    assert "— Sam Taylor" in out
    assert "✅ Broadcast finished: 3 people · 3 sent" in out
    assert "a picture" in out and "🍽 Meals served: 38" in out
    # The three lunches nobody staffed are marked as not run, so Rachel's copy of the digest
    # asks for no counts and is the group's, as the demo says (it checks, and fails if not).
    assert out.count("🚫 Recorded: this session did not run (Not enough volunteers)") == 3
    assert "(Rachel gets the same digest in her own chat.)" in out
    # The second week at five locations: the programme-wide day view, the week's picture.
    assert "📋 Today, Mon 3 Aug: 5 lunches at 5 locations" in out
    assert "👥 Booked: 1 of 23 places, 0 confirmed." in out
    assert "🗓 Week of Mon 3 Aug: 20 lunches at 5 locations" in out
    assert "without counts" not in out and "without meal counts" not in out
    assert "Demo finished" in out
    assert "Traceback" not in out + result.stderr


def test_running_without_a_token_says_how_to_get_one(tmp_path: Path) -> None:
    result = lunchbot("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "No bot token: set the environment variable TELEGRAM_BOT_TOKEN" in lines[0]
    assert "lunchbot demo" in lines[0]


def test_a_named_config_that_is_missing_or_wrong_is_one_line(tmp_path: Path) -> None:
    missing = lunchbot("--config", "nope.toml", "run", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "lunchbot: nope.toml: no such config file; copy "
        "config.example.toml to nope.toml and edit it"
    )
    (tmp_path / "config.toml").write_text("[programme]\ntimezone = 'Nowhere/Else'\n")
    wrong = lunchbot("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": GOOD_TOKEN})
    assert wrong.returncode == 2
    assert len(wrong.stderr.strip().splitlines()) == 1
    assert "programme.timezone" in wrong.stderr
    assert GOOD_TOKEN not in wrong.stderr + wrong.stdout


def test_db_upgrade_makes_the_database_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    done = lunchbot("db", "upgrade", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Database is up to date: sqlite+aiosqlite:///lunchbot.sqlite3" in done.stdout
    assert (tmp_path / "lunchbot.sqlite3").exists()

    (tmp_path / "config.toml").write_text(
        "[database]\nurl = 'postgresql://someone:hunter2@127.0.0.1:1/nowhere'\n"
    )
    refused = lunchbot("db", "upgrade", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        "lunchbot: could not open the database postgresql+asyncpg://someone:***@127.0.0.1:1/nowhere"
    )
    assert "hunter2" not in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("command", [("db", "upgrade"), ("run",)])
@pytest.mark.parametrize("missing", ["database", "role", "rights"])
def test_a_missing_postgresql_database_or_role_is_one_line_saying_how_to_create_it(
    tmp_path: Path, command: tuple[str, ...], missing: str
) -> None:
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip(SKIP_POSTGRES)
    server = make_url(admin)
    if missing == "database":
        url = server.set(database=f"lunchbot_missing_{os.getpid()}")
        says = (
            f'database "lunchbot_missing_{os.getpid()}" does not exist: create it with '
            f"createdb -h {server.host} -p {server.port or 5432} -U postgres"
        )
    elif missing == "role":
        url = server.set(username=f"nobody_{os.getpid()}", password="hunter2")
        says = (
            f'role "nobody_{os.getpid()}" does not exist: create it with createuser '
            f"-h {server.host} -p {server.port or 5432} -U postgres --pwprompt nobody_{os.getpid()}"
        )
    else:  # a role and a database made by the superuser, who still owns the database
        lowly, name = f"lowly_{os.getpid()}", f"lunchbot_lowly_{os.getpid()}"
        url = server.set(username=lowly, password="hunter2", database=name)
        says = (
            f'role "{lowly}" may not create the tables (permission denied for schema public): '
            f"make it the database's owner with psql -h {server.host} -p {server.port or 5432} "
            f'-U postgres -c \'ALTER DATABASE "{name}" OWNER TO "{lowly}"\''
        )
        asyncio.run(
            _as_superuser(
                admin,
                f'DROP DATABASE IF EXISTS "{name}"',
                f'DROP ROLE IF EXISTS "{lowly}"',
                f"CREATE ROLE \"{lowly}\" LOGIN PASSWORD 'hunter2'",
                f'CREATE DATABASE "{name}"',
            )
        )
    address = url.render_as_string(hide_password=False)
    (tmp_path / "config.toml").write_text(f"[database]\nurl = '{address}'\n")
    try:
        result = lunchbot(*command, cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": GOOD_TOKEN})
    finally:
        if missing == "rights":
            asyncio.run(
                _as_superuser(
                    admin, f'DROP DATABASE IF EXISTS "{name}"', f'DROP ROLE IF EXISTS "{lowly}"'
                )
            )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lunchbot: could not open the database postgresql+asyncpg://")
    assert says in lines[0]
    assert "hunter2" not in result.stderr + result.stdout


async def _as_superuser(admin_url: str, *statements: str) -> None:
    connection = await asyncpg.connect(make_url(admin_url).render_as_string(hide_password=False))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def test_an_unreachable_bot_api_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[telegram]\napi_base_url = 'http://127.0.0.1:9/bot'\n")
    result = lunchbot("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": GOOD_TOKEN})
    assert result.returncode == 1
    assert "could not reach the Bot API at http://127.0.0.1:9/bot" in result.stderr
    assert GOOD_TOKEN not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_second_instance_on_one_sqlite_file_stops_with_one_line(tmp_path: Path) -> None:
    """SQLite allows one instance: a second `run` says so before it touches Telegram."""
    (tmp_path / "config.toml").write_text("[telegram]\napi_base_url = 'http://127.0.0.1:9/bot'\n")
    with leader.sole_instance(sqlite_url(tmp_path)):
        result = lunchbot("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": GOOD_TOKEN})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "already running" in lines[0]
    assert f"process {os.getpid()}" in lines[0]
    assert "use PostgreSQL to run several" in lines[0]
    # Once it has stopped, the next one starts (and here finds no Bot API at that address).
    result = lunchbot("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": GOOD_TOKEN})
    assert "could not reach the Bot API" in result.stderr


def _london_today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()  # the programme's zone by default


def test_the_readme_import_example_works_on_the_day_it_is_followed(tmp_path: Path) -> None:
    """A newcomer with no location yet: the sample is for the coming week, the first import
    says how to add the locations, the second adds them and every session, the third changes
    nothing."""
    made = lunchbot("import", "--example", "sessions.csv", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "lunchbot import --create-locations sessions.csv" in made.stdout
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sessions.csv").read_text())))
    first = date.fromisoformat(rows[0]["date"])
    assert first.weekday() == 0 and 0 < (first - _london_today()).days <= 7
    assert lunchbot("import", "--example", "sessions.csv", cwd=tmp_path).returncode == 2

    refused = lunchbot("import", "sessions.csv", cwd=tmp_path)
    assert refused.returncode == 1
    assert "line 2: no location called “St Mark's church hall”" in refused.stdout
    assert "import with --create-locations to add it" in refused.stdout
    assert "nothing was imported" in refused.stderr

    done = lunchbot("import", "--create-locations", "sessions.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sessions.csv: 8 sessions added, 0 already there" in done.stdout
    assert "new locations: St Mark's church hall, Riverside community centre" in done.stdout
    again = lunchbot("import", "--create-locations", "sessions.csv", cwd=tmp_path)
    assert "sessions.csv: 0 sessions added, 8 already there" in again.stdout
    assert "new locations" not in again.stdout


def test_an_excel_file_is_read_or_refused_with_how_to_save_it(tmp_path: Path) -> None:
    today = _london_today()
    monday = today + timedelta(days=7 - today.weekday())
    header, row = "location,date,start,end,cook", f"Zoë’s kitchen,{monday:%d/%m/%Y},11:30,13:30,2"
    (tmp_path / "ansi.csv").write_bytes(f"{header}\r\n{row}\r\n".encode("cp1252"))
    refused = lunchbot("import", "--create-locations", "ansi.csv", cwd=tmp_path)
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("lunchbot: ansi.csv: line 2: this file is not UTF-8")
    assert "“CSV UTF-8 (Comma delimited) (*.csv)”" in line

    semicolons = f"{header}\r\n{row}\r\n".replace(",", ";")
    (tmp_path / "semicolons.csv").write_bytes(codecs.BOM_UTF8 + semicolons.encode())
    done = lunchbot("import", "--create-locations", "semicolons.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 sessions added" in done.stdout and "new locations: Zoë’s kitchen" in done.stdout


def test_keys_and_the_privacy_report(tmp_path: Path) -> None:
    made = lunchbot("keys", "new", cwd=tmp_path)
    assert made.returncode == 0
    key = made.stdout.strip()
    assert len(key) == 44
    report = lunchbot("privacy", "report", cwd=tmp_path, env={"LUNCHBOT_ENCRYPTION_KEY": key})
    assert report.returncode == 0, report.stderr
    assert "Sealing key configured: yes" in report.stdout
    assert "- referrals submitted: 0" in report.stdout
    assert key not in report.stdout
    rotated = lunchbot("keys", "rotate", cwd=tmp_path, env={"LUNCHBOT_ENCRYPTION_KEY": key})
    assert rotated.stdout.startswith("Re-wrapped the data keys of 0 referrals")
    bad = lunchbot(
        "privacy", "report", cwd=tmp_path, env={"LUNCHBOT_ENCRYPTION_KEY": "not-a-key-at-all"}
    )
    assert bad.returncode == 2
    assert "LUNCHBOT_ENCRYPTION_KEY is not a valid key" in bad.stderr
    assert "not-a-key-at-all" not in bad.stderr


# --- lunchbot report -------------------------------------------------------------------------


async def _last_summer(url: str) -> None:
    """Summer 2025 in the database the command will use: St Mark's on Tue 29 July (40 meals,
    30 children, Sam came for 2 hours) and Thu 31 July (Ben's no-show marked, no counts: it
    did not run); Riverside on Wed 30 July (30 meals, 28 children) and Fri 1 August (nothing
    recorded). So 2 sessions run (1 each), 2 without counts (1 each)."""
    await migrate.upgrade(url)
    db = Database(url)
    tz = ZoneInfo("Europe/London")
    before, after = datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 9, 1, tzinfo=UTC)
    # Location, day, (meals, children) or None, the volunteer booked and whether they came.
    sessions: list[tuple[str, date, tuple[int, int] | None, tuple[int, bool] | None]] = [
        ("St Mark's", date(2025, 7, 29), (40, 30), (3001, True)),
        ("St Mark's", date(2025, 7, 31), None, (3002, False)),
        ("Riverside", date(2025, 7, 30), (30, 28), None),
        ("Riverside", date(2025, 8, 1), None, None),
    ]
    try:
        for telegram_id, name in ((1001, "Rachel"), (3001, "Sam"), (3002, "Ben")):
            await people.register(
                db,
                telegram_id=telegram_id,
                name=name,
                now=before,
                coordinator_ids=frozenset({1001}),
            )
        made: dict[str, int] = {}
        for name, day, counts, volunteer in sessions:
            if name not in made:
                place = await locations.create(db, actor_telegram_id=1001, name=name, now=before)
                made[name] = place.location_id
            plan = SessionPlan(
                location_id=made[name],
                first_day=day,
                last_day=day,
                weekdays=frozenset({day.weekday()}),
                start=time(11, 30),
                end=time(13, 30),
                jobs=(JobSpec(job="server", places=3),),
            )
            await rota.create_sessions(db, actor_telegram_id=1001, plan=plan, tz=tz, now=before)
            view = (
                await rota.sessions_on(
                    db, actor_telegram_id=1001, location_id=made[name], day=day, tz=tz
                )
            )[0].session
            if volunteer is not None:
                who, came = volunteer
                booked = await rota.book(
                    db, telegram_id=who, job_id=view.jobs[0].job_id, now=before, waitlist=False
                )
                assert booked.booking is not None
                await rota.mark_attendance(
                    db,
                    actor_telegram_id=1001,
                    booking_id=booked.booking.booking_id,
                    attended=came,
                    now=after,
                )
            if counts is not None:
                await rota.record_counts(
                    db,
                    actor_telegram_id=1001,
                    session_id=view.session_id,
                    meals=counts[0],
                    children=counts[1],
                    now=after,
                )
    finally:
        await db.dispose()


def test_the_impact_report_writes_a_csv_and_a_chart_and_prints_the_totals(
    tmp_path: Path,
) -> None:
    asyncio.run(_last_summer(f"sqlite+aiosqlite:///{tmp_path / 'lunchbot.sqlite3'}"))

    done = lunchbot(
        "report", "--from", "2025-07-28", "--to", "29/08/2025", "--out", "out", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "impact report, 28 Jul – 29 Aug 2025 (all locations)" in out
    assert "  Meals served:               70\n" in out
    assert "  Children fed (attendances): 58\n" in out
    assert "  Referred families who came: 0\n" in out
    assert "  Sessions run:               2\n" in out
    assert "  Sessions without counts:    2\n" in out
    assert "  Volunteer shifts:           1\n" in out
    assert "  Volunteer hours:            2.0\n" in out
    assert "  Note: 2 sessions without counts: record them in the bot with /today" in out
    assert (
        "  By location  Meals served Children fed Sessions run Volunteer shifts Without counts"
    ) in out
    assert (
        "  St Mark's              40           30            1                1              1"
        in out
    )
    assert (
        "  Riverside              30           28            1                0              1"
        in out
    )
    stem = tmp_path / "out" / "impact-2025-07-28-to-2025-08-29"
    assert f"CSV:   out/{stem.name}.csv" in out and f"Chart: out/{stem.name}.png" in out
    assert len(out.splitlines()) <= 24  # one screen
    rows = list(csv.DictReader(io.StringIO(stem.with_suffix(".csv").read_text("utf-8-sig"))))
    run, gaps = "Sessions run", "Sessions without counts"
    assert [(row["Location"], row["Meals served"], row[run], row[gaps]) for row in rows] == [
        ("Riverside", "30", "1", "1"),
        ("St Mark's", "40", "1", "1"),
        ("Total", "70", "2", "2"),
    ]
    assert stem.with_suffix(".png").read_bytes().startswith(b"\x89PNG")

    one = lunchbot(
        "report",
        "--from",
        "2025-07-28",
        "--to",
        "2025-08-29",
        "--location",
        "st mark's",
        cwd=tmp_path,
    )
    assert one.returncode == 0, one.stderr
    assert "(St Mark's)" in one.stdout and "Meals served:               40" in one.stdout
    assert "Sessions run:               1" in one.stdout
    assert "1 session without counts: record it in the bot with /today" in one.stdout
    assert (tmp_path / "impact-St-Mark-s-2025-07-28-to-2025-08-29.csv").exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "report needs --from DATE and --to DATE"),
        (("--from", "2025-07-28", "--to", "soon"), "'soon' is not a date"),
        (("--from", "2025-08-29", "--to", "2025-07-28"), "the last day is before the first"),
        (("--from", "2020-01-01", "--to", "2025-07-28"), "a report covers at most 1096 days"),
        (("--from", "2099-01-01", "--to", "2099-01-02"), "that period has not begun yet"),
        (("--from", "1900-01-01", "--to", "1900-01-02"), "a report starts at most 5 years ago"),
        (
            ("--from", "2025-07-28", "--to", "2025-08-29", "--location", "Nowhere"),
            "no location called “Nowhere”",
        ),
    ],
)
def test_a_bad_report_request_is_one_line(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    refused = lunchbot("report", *args, cwd=tmp_path)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert says in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not list(tmp_path.glob("impact-*"))


def test_a_sqlite_backup_is_taken_while_the_database_is_open_and_is_private(
    tmp_path: Path,
) -> None:
    assert lunchbot("db", "upgrade", cwd=tmp_path).returncode == 0
    # A writer holds the database open (WAL) while the backup is taken, as the bot would.
    holding = sqlite3.connect(tmp_path / "lunchbot.sqlite3")
    holding.execute("INSERT INTO audit_log (at, action, details) VALUES ('2026-07-01', 'x', '{}')")
    holding.commit()
    try:
        done = lunchbot("db", "backup", "copy.sqlite3", cwd=tmp_path)
    finally:
        holding.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Backed up to copy.sqlite3 (")
    assert "no longer than the referral retention (60 days)" in done.stdout
    copy = tmp_path / "copy.sqlite3"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with contextlib.closing(sqlite3.connect(copy)) as opened:
        assert opened.execute("SELECT count(*) FROM audit_log WHERE action = 'x'").fetchone() == (
            1,
        )

    again = lunchbot("db", "backup", "copy.sqlite3", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr == "lunchbot: copy.sqlite3 already exists: name a new file\n"
    (tmp_path / "config.toml").write_text("[database]\nurl = 'postgresql://lunch:pw@db/lunch'\n")
    postgres = lunchbot("db", "backup", "x.dump", cwd=tmp_path)
    assert postgres.returncode == 2
    assert (
        "back it up with pg_dump, for example pg_dump -Fc -h db -U lunch lunch" in postgres.stderr
    )
    assert "pw" not in postgres.stderr

"""`lunchbot`: run the bot, apply migrations, or show the demo. Loads config, nothing more."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime
from pathlib import Path

from telegram.error import InvalidToken, NetworkError

from bot import leader, logs, privacy
from bot.config import (
    KEY_ENV,
    OLD_KEYS_ENV,
    TOKEN_ENV,
    WEBHOOK_SECRET_ENV,
    Config,
    ConfigError,
    config_path,
    load_config,
)
from storage import backup, crypto, dates, impact, migrate, referrals, rota_import, spreadsheet
from storage.db import Database
from storage.migrate import DatabaseUnavailable

logger = logging.getLogger("lunchbot")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command = args.command or "run"
    # The demo's transcript is its output; log lines would only interrupt it.
    level = (
        logging.DEBUG if args.verbose else logging.WARNING if command == "demo" else (logging.INFO)
    )
    secrets = [
        os.environ.get(name, "").strip() for name in (TOKEN_ENV, KEY_ENV, WEBHOOK_SECRET_ENV)
    ]
    secrets += os.environ.get(OLD_KEYS_ENV, "").split(",")
    logs.setup(level, secrets=[s.strip() for s in secrets if s.strip()])
    if command == "demo":
        from bot.demo import run_demo  # noqa: PLC0415 (the demo pulls in the sandbox)

        return asyncio.run(run_demo())
    try:
        path, named = config_path(args.config, os.environ)
        config = load_config(path, must_exist=named)
        if command == "import":
            return _import_command(config, args)
        if command == "report":
            return _report(config, args)
        if command == "keys" and args.action == "new":
            _say(crypto.new_key())
            return 0
        if command == "keys":
            return asyncio.run(_rotate(config))
        if command == "privacy":
            _say(asyncio.run(privacy.report(config)))
            return 0
        if command == "db" and args.action == "backup":
            return _backup(config, args.file)
        if command == "db":
            asyncio.run(migrate.upgrade(config.database.url))
            _say(f"Database is up to date: {_safe_url(config.database.url)}")
            return 0
        config.telegram.require_token()
        use_webhook = bool(getattr(args, "webhook", False))
        if use_webhook:
            config.server.require_webhook()
        if config.source is None:
            logger.info("no config file at %s: running with the defaults", path)
        return asyncio.run(_serve(config, webhook=use_webhook))
    except (ConfigError, DatabaseUnavailable, leader.AlreadyRunning) as exc:
        return _fail(str(exc))


def _backup(config: Config, file: str | None) -> int:
    if not file:
        return _fail("db backup needs the new file to write, for example: db backup backup.sqlite3")
    try:
        size = backup.backup_sqlite(config.database.url, Path(file))
    except backup.BackupRefused as exc:
        return _fail(str(exc))
    days = config.referrals.retention_days
    _say(
        f"Backed up to {file} ({size:,} bytes), readable by you only. Keep it apart from "
        f"{KEY_ENV}, and no longer than the referral retention ({days} days): a backup still "
        "holds the details the bot has since deleted."
    )
    return 0


def _import_command(config: Config, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if args.example:
        return _write_example(config, path)
    try:
        text = rota_import.decode(path.read_bytes())
    except OSError as exc:
        return _fail(f"{path}: cannot be read ({exc.strerror or exc})")
    except rota_import.Unreadable as exc:
        return _fail(f"{path}: {exc}")
    return asyncio.run(_import(config, path, text, create_locations=args.create_locations))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lunchbot", description="Holiday Lunch Bot: coordinates a holiday lunch programme."
    )
    parser.add_argument(
        "--config", metavar="PATH", help="config file (default: $LUNCHBOT_CONFIG or config.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log in more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="run the bot (the default); needs TELEGRAM_BOT_TOKEN")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates at server.webhook_url (needs LUNCHBOT_WEBHOOK_SECRET) "
        "instead of asking Telegram for them",
    )
    sub.add_parser("demo", help="play a scripted conversation against a local Bot API sandbox")
    sessions = sub.add_parser(
        "import", help="add lunch sessions from a CSV file (--example writes a sample)"
    )
    sessions.add_argument(
        "file",
        help="the CSV file: location,date,start,end, then one "
        "column per job with the places needed",
    )
    sessions.add_argument(
        "--create-locations",
        action="store_true",
        help="add the locations the file names that are not in the bot yet",
    )
    sessions.add_argument(
        "--example",
        action="store_true",
        help="write a sample file for the coming week to FILE instead of importing",
    )
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument(
        "action",
        choices=["upgrade", "backup"],
        help="upgrade: apply all migrations; backup FILE: copy a SQLite database while it runs",
    )
    db.add_argument("file", nargs="?", help="backup: the new file to write")
    keys = sub.add_parser("keys", help="the keys that seal referral details")
    keys.add_argument(
        "action",
        choices=["new", "rotate"],
        help="new: print a fresh key; rotate: re-seal everything with the first "
        "key in LUNCHBOT_ENCRYPTION_KEY / LUNCHBOT_OLD_ENCRYPTION_KEYS",
    )
    report = sub.add_parser(
        "report",
        help="the impact report for a period (meals served, children fed, referred families "
        "who came, sessions run, volunteer shifts and hours, referrals received; the README's "
        "'The figures' says what each counts): a CSV file and a chart",
    )
    report.add_argument(
        "--from", dest="start", metavar="DATE", help="the first day (2026-07-27 or 27/07/2026)"
    )
    report.add_argument("--to", dest="end", metavar="DATE", help="the last day, included")
    report.add_argument("--location", metavar="NAME", help="one location's figures (default: all)")
    report.add_argument(
        "--out", metavar="DIR", default=".", help="where to write the files (default: here)"
    )
    privacy = sub.add_parser("privacy", help="data protection")
    privacy.add_argument(
        "action", choices=["report"], help="what is stored, for how long, and who can see it"
    )
    return parser


def _running(config: Config, *, webhook: bool) -> AbstractAsyncContextManager[object]:
    from bot.app import build_application  # noqa: PLC0415 (keeps `lunchbot --help` quick)
    from bot.config import DEFAULT_PORT  # noqa: PLC0415
    from bot.runtime import polling  # noqa: PLC0415
    from bot.runtime import webhook as webhook_mode  # noqa: PLC0415

    application = build_application(config)
    server, sweep = config.server, config.delivery.sweep_seconds
    if webhook:
        url, secret = server.require_webhook()
        return webhook_mode(
            application,
            url=url,
            secret=secret,
            listen=server.listen,
            port=DEFAULT_PORT if server.port is None else server.port,
            sweep_seconds=sweep,
            concurrency=config.updates.concurrency,
        )
    return polling(
        application,
        sweep_seconds=sweep,
        concurrency=config.updates.concurrency,
        listen=server.listen,
        port=server.port,
    )


async def _serve(config: Config, *, webhook: bool = False) -> int:
    with leader.sole_instance(config.database.url):
        return await _serve_alone(config, webhook=webhook)


async def _serve_alone(config: Config, *, webhook: bool) -> int:
    # The database first: a missing database or role is one line naming it, before Telegram.
    # Instances starting together on PostgreSQL migrate one after another (migrate.upgrade).
    await migrate.upgrade(config.database.url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = config.telegram.api_base_url or "Telegram"
    try:
        async with _running(config, webhook=webhook):
            logger.info("press Ctrl+C to stop")
            await stop.wait()
    except InvalidToken:
        return _fail(
            "Telegram did not accept TELEGRAM_BOT_TOKEN; copy it again from "
            "@BotFather (/mybots, API Token)"
        )
    except NetworkError as exc:
        return _fail(
            f"could not reach the Bot API at {server}: {exc}. Check the network, or "
            "telegram.api_base_url in the config",
            status=1,
        )
    logger.info("stopped")
    return 0


async def _rotate(config: Config) -> int:
    if not config.referrals.keys:
        return _fail(f"set {KEY_ENV} to the new key (and {OLD_KEYS_ENV} to the old ones) first")
    await migrate.upgrade(config.database.url)
    database = Database(config.database.url)
    try:
        count = await referrals.reseal_all(
            database, crypto.Cipher(config.referrals.keys), now=datetime.now(UTC)
        )
    except crypto.SealError:
        return _fail(
            f"some details were sealed with a key that is not given; add it to "
            f"{OLD_KEYS_ENV} and run this again"
        )
    finally:
        await database.dispose()
    _say(
        f"Re-wrapped the data keys of {count} referrals with the first key. The old keys can "
        "now be removed."
    )
    return 0


def _write_example(config: Config, path: Path) -> int:
    today = datetime.now(UTC).astimezone(config.programme.tz).date()
    try:
        with path.open("x", encoding="utf-8", newline="") as file:
            file.write(rota_import.example(today))
    except FileExistsError:
        return _fail(f"{path} already exists; choose another name")
    except OSError as exc:
        return _fail(f"{path}: cannot be written ({exc.strerror or exc})")
    _say(
        f"{path}: a sample for the coming week. Import it with: "
        f"lunchbot import --create-locations {path}"
    )
    return 0


async def _import(config: Config, path: Path, text: str, *, create_locations: bool) -> int:
    await migrate.upgrade(config.database.url)
    database = Database(config.database.url)
    try:
        result = await rota_import.import_sessions(
            database,
            text,
            tz=config.programme.tz,
            now=datetime.now(UTC),
            jobs_needing_check=frozenset(j.name for j in config.rota.jobs if j.needs_check),
            create_locations=create_locations,
        )
    finally:
        await database.dispose()
    if result.errors:
        for error in result.errors:
            _say(f"{path}: {error}")
        return _fail(
            f"{path}: nothing was imported; correct the lines above and try again", status=1
        )
    _say(f"{path}: {result.created} sessions added, {result.existing} already there")
    if result.new_locations:
        _say(
            f"{path}: new locations: {', '.join(result.new_locations)}; add their addresses "
            "and how many children they can feed in the bot with /locations"
        )
    return 0


def _report(config: Config, args: argparse.Namespace) -> int:
    """`lunchbot report`: the CSV and the chart in --out, and a summary on the screen."""
    from handlers import charts, impact_texts  # noqa: PLC0415 (keeps `lunchbot --help` quick)

    if not args.start or not args.end:
        return _fail(
            "report needs --from DATE and --to DATE, like --from 2026-07-27 --to 2026-08-28"
        )
    start, end = rota_import.parse_date(args.start), rota_import.parse_date(args.end)
    if start is None or end is None:
        bad = args.start if start is None else args.end
        return _fail(f"{bad!r} is not a date: write it like 2026-07-27 (or 27/07/2026)")
    now = datetime.now(UTC)
    problem = impact.period_problem(start, end, today=now.astimezone(config.programme.tz).date())
    if problem is not None:
        return _fail(f"cannot report on {start} to {end}: {_PERIOD_PROBLEMS[problem]}")
    if not dates.REPORTING.holds(now.astimezone(config.programme.tz).date(), start):
        years = dates.REPORTING.back.days // 366
        return _fail(
            f"cannot report on {start} to {end}: a report starts at most {years} years ago"
        )
    report = asyncio.run(_impact(config, start, end, args.location, now))
    if report is None:
        return _fail(f"no location called “{args.location}”; leave out --location to report on all")
    where = report.locations[0].name if args.location is not None and report.locations else None
    folder = Path(args.out)
    stem = impact_texts.file_stem(start, end, where)
    unit, bars, series = impact.meals_series(report)
    chart = charts.meals_per_day(impact_texts.chart_title(report, unit, where), bars, series)
    csv_path, chart_path = folder / f"{stem}.csv", folder / f"{stem}.png"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # With a BOM, so that a spreadsheet reads the names as UTF-8.
        csv_path.write_bytes(spreadsheet.encode(impact.to_csv(report)))
        chart_path.write_bytes(chart)
    except OSError as exc:
        return _fail(f"{folder}: cannot write the report there ({exc.strerror or exc})")
    _say(
        impact_texts.terminal_summary(
            report,
            programme=config.programme.name,
            where=where,
            csv_path=csv_path,
            chart_path=chart_path,
        )
    )
    return 0


async def _impact(
    config: Config, start: date, end: date, location: str | None, now: datetime
) -> impact.Report | None:
    """The figures, from the config's database (brought up to date first); None when there
    is no location of that name."""
    await migrate.upgrade(config.database.url)
    database = Database(config.database.url)
    try:
        location_id = None
        if location is not None:
            location_id = await impact.location_named(database, location)
            if location_id is None:
                return None
        return await impact.report(
            database,
            start=start,
            end=end,
            tz=config.programme.tz,
            now=now,
            location_id=location_id,
        )
    finally:
        await database.dispose()


_PERIOD_PROBLEMS = {
    impact.PeriodProblem.BACKWARDS: "the last day is before the first",
    impact.PeriodProblem.TOO_LONG: f"a report covers at most {impact.MAX_REPORT_DAYS} days",
    impact.PeriodProblem.NOT_STARTED: "that period has not begun yet",
}


def _say(text: str) -> None:
    print(text)  # noqa: T201 (the command's own output)


def _fail(message: str, status: int = 2) -> int:
    """One line on stderr for the person at the terminal, and the exit status."""
    print(f"lunchbot: {message}", file=sys.stderr)  # noqa: T201
    return status


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())

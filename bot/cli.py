"""`lunchbot`: run the bot, apply migrations, or show the demo. Loads config, nothing more."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from telegram.error import InvalidToken, NetworkError

from bot import logs, privacy
from bot.config import (
    KEY_ENV,
    OLD_KEYS_ENV,
    TOKEN_ENV,
    Config,
    ConfigError,
    config_path,
    load_config,
)
from storage import crypto, migrate, referrals, rota_import
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
    secrets = [os.environ.get(name, "").strip() for name in (TOKEN_ENV, KEY_ENV)]
    secrets += os.environ.get(OLD_KEYS_ENV, "").split(",")
    logs.setup(level, secrets=[s.strip() for s in secrets if s.strip()])
    if command == "demo":
        from bot.demo import run_demo  # noqa: PLC0415 (the demo pulls in the sandbox)

        return asyncio.run(run_demo())
    try:
        path, named = config_path(args.config, os.environ)
        config = load_config(path, must_exist=named)
        if command == "import":
            path = Path(args.file)
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                return _fail(f"{path}: cannot be read as a UTF-8 CSV file ({exc})")
            return asyncio.run(_import(config, path, text))
        if command == "keys" and args.action == "new":
            _say(crypto.new_key())
            return 0
        if command == "keys":
            return asyncio.run(_rotate(config))
        if command == "privacy":
            _say(asyncio.run(privacy.report(config)))
            return 0
        if command == "db":
            asyncio.run(migrate.upgrade(config.database.url))
            _say(f"Database is up to date: {_safe_url(config.database.url)}")
            return 0
        config.telegram.require_token()
        if config.source is None:
            logger.info("no config file at %s: running with the defaults", path)
        return asyncio.run(_serve(config))
    except (ConfigError, DatabaseUnavailable) as exc:
        return _fail(str(exc))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lunchbot", description="Holiday Lunch Bot: coordinates a holiday lunch programme."
    )
    parser.add_argument(
        "--config", metavar="PATH", help="config file (default: $LUNCHBOT_CONFIG or config.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log in more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (the default); needs TELEGRAM_BOT_TOKEN")
    sub.add_parser("demo", help="play a scripted conversation against a local Bot API sandbox")
    sessions = sub.add_parser(
        "import", help="add lunch sessions from a CSV file (see examples/sessions.csv)"
    )
    sessions.add_argument(
        "file",
        help="the CSV file: location,date,start,end, then one "
        "column per job with the places needed",
    )
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"], help="apply all migrations")
    keys = sub.add_parser("keys", help="the keys that seal referral details")
    keys.add_argument(
        "action",
        choices=["new", "rotate"],
        help="new: print a fresh key; rotate: re-seal everything with the first "
        "key in LUNCHBOT_ENCRYPTION_KEY / LUNCHBOT_OLD_ENCRYPTION_KEYS",
    )
    privacy = sub.add_parser("privacy", help="data protection")
    privacy.add_argument(
        "action", choices=["report"], help="what is stored, for how long, and who can see it"
    )
    return parser


async def _serve(config: Config) -> int:
    from bot.app import build_application  # noqa: PLC0415 (keeps `lunchbot --help` quick)
    from bot.runtime import polling  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = config.telegram.api_base_url or "Telegram"
    try:
        async with polling(build_application(config), sweep_seconds=config.delivery.sweep_seconds):
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
        count = await referrals.reseal_all(database, crypto.Cipher(config.referrals.keys))
    except crypto.SealError:
        return _fail(
            f"some details were sealed with a key that is not given; add it to "
            f"{OLD_KEYS_ENV} and run this again"
        )
    finally:
        await database.dispose()
    _say(f"Re-sealed {count} referrals with the first key. The old keys can now be removed.")
    return 0


async def _import(config: Config, path: Path, text: str) -> int:
    await migrate.upgrade(config.database.url)
    database = Database(config.database.url)
    try:
        result = await rota_import.import_sessions(
            database,
            text,
            tz=config.programme.tz,
            now=datetime.now(UTC),
            jobs_needing_check=frozenset(j.name for j in config.rota.jobs if j.needs_check),
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
    return 0


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

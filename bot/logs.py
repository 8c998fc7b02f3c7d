"""Logging that never carries a secret: the token is in every Bot API URL, so the libraries that
log URLs or request parameters are kept quiet, and a filter masks the token anywhere else."""

from __future__ import annotations

import logging
from collections.abc import Iterable

# httpx logs each request's URL (with the token) at INFO; PTB's Bot logs the base URL and every
# call's parameters (invite links, people's words) at DEBUG.
_URL_LOGGERS = ("httpx", "httpcore")
_PARAMETER_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot")
# At DEBUG, PTB's Application prints every update it processes (what people typed, the words of a
# referral's review) and the SQLite driver every statement it runs with its values: with
# `--verbose` they would put people's words and phone numbers in the log.
_CONTENT_LOGGERS = ("telegram.ext.Application", "aiosqlite", "asyncpg")
_CHATTY_LOGGERS = ("apscheduler", "telegram.ext.Updater", "alembic", "matplotlib")
# (exports: begin) fpdf2 warns of letters its font lacks by quoting them, from people's names;
# fontTools reports each table of the font it cuts down for a sign-in sheet.
_PDF_LOGGERS = ("fpdf", "fontTools")
# (exports: end)
# APScheduler skips a sweep while the previous one is still sending (by design: one at a time)
# and warns each time; during a broadcast that was most of the log.
_SCHEDULER_LOGGER = "apscheduler.scheduler"
_EXPECTED_SKIP = "maximum number of running instances reached"
MASK = "[secret]"


def quiet_libraries() -> None:
    """Raise the libraries' log levels so that no set-up of ours or a host's can make them log
    the token; called by build_application, whatever configured logging."""
    for name in _URL_LOGGERS + _CHATTY_LOGGERS:
        _at_least(name, logging.WARNING)
    for name in _PARAMETER_LOGGERS + _CONTENT_LOGGERS:
        _at_least(name, logging.INFO)
    for name in _PDF_LOGGERS:
        _at_least(name, logging.ERROR)
    scheduler = logging.getLogger(_SCHEDULER_LOGGER)
    if not any(isinstance(f, _SkippedSweeps) for f in scheduler.filters):
        scheduler.addFilter(_SkippedSweeps())


class _SkippedSweeps(logging.Filter):
    """Drops APScheduler's warning that a job was skipped because its last run goes on."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _EXPECTED_SKIP not in str(record.msg)


class Redactor(logging.Filter):
    """Masks the given secrets in every record that passes the handler it is attached to."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, MASK)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and self._secrets:
            # Format the traceback now, masked, so the handler does not format the raw one.
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self._secrets:
                text = text.replace(secret, MASK)
            record.exc_text, record.exc_info = text, None
        return True


def setup(level: int, secrets: Iterable[str]) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    quiet_libraries()


def _at_least(name: str, level: int) -> None:
    """Never below `level`, nor below what the root logger logs (the demo logs warnings only:
    a library's INFO lines must not interrupt its transcript). The level is set on the logger
    itself, so a host that lowers the root's level later does not let these lines through."""
    logger = logging.getLogger(name)
    floor = max(level, logging.getLogger().getEffectiveLevel())
    if logger.level == logging.NOTSET or logger.level < floor:
        logger.setLevel(floor)

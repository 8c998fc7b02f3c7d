"""Configuration: one TOML file for settings, the environment for secrets and overrides.

Loaded once by the CLI and passed down; nothing here runs at import time. Every problem is
reported as one line that names the key, says what is wrong and how to fix it, and never echoes
a secret. Any key of the file can also be set from the environment as
`LUNCHBOT_<SECTION>__<KEY>` (`LUNCHBOT_DATABASE__URL`), so a deployment keeps passwords out of
files; the environment wins over the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.celebrations import WEEKDAYS, CelebrationPolicy
from storage.crypto import valid_key

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"  # noqa: S105 (the variable's name, not a secret)
KEY_ENV = "LUNCHBOT_ENCRYPTION_KEY"
OLD_KEYS_ENV = "LUNCHBOT_OLD_ENCRYPTION_KEYS"
CONFIG_ENV = "LUNCHBOT_CONFIG"
WEBHOOK_SECRET_ENV = "LUNCHBOT_WEBHOOK_SECRET"  # noqa: S105 (the variable's name)
# LUNCHBOT_<SECTION>__<KEY>: one config key from the environment (two underscores between).
OVERRIDE_PREFIX = "LUNCHBOT_"
OVERRIDE_SEPARATOR = "__"
DEFAULT_CONFIG_PATH = Path("config.toml")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///lunchbot.sqlite3"
DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_INVITE_HOURS = 72
MAX_INVITE_HOURS = 24 * 30

# What @BotFather hands out: the bot's numeric id, a colon, then a secret of 30-odd characters.
_TOKEN_SHAPE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,60}$")
_TOKEN_INSIDE = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,60}")
_BOTFATHER_HINT = "talk to @BotFather in Telegram, send /newbot, and copy the token it gives you"


class ConfigError(Exception):
    """A configuration problem, worded for the person running the bot (one line)."""


@dataclass(frozen=True, kw_only=True)
class TelegramConfig:
    api_base_url: str | None = None
    api_file_url: str | None = None
    token: str | None = field(default=None, repr=False)

    def require_token(self) -> str:
        if self.token is None:
            raise ConfigError(
                f"No bot token: set the environment variable {TOKEN_ENV} ({_BOTFATHER_HINT}). "
                "To see the bot working without a token, run: lunchbot demo"
            )
        return self.token


@dataclass(frozen=True, kw_only=True)
class DatabaseConfig:
    url: str = DEFAULT_DATABASE_URL


@dataclass(frozen=True, kw_only=True)
class ProgrammeConfig:
    name: str = "Holiday Lunch Club"
    timezone: str = DEFAULT_TIMEZONE

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, kw_only=True)
class CoordinatorsConfig:
    telegram_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, kw_only=True)
class InvitesConfig:
    expire_hours: int = DEFAULT_INVITE_HOURS


@dataclass(frozen=True, kw_only=True)
class JobConfig:
    name: str
    places: int
    needs_check: bool = False


DEFAULT_JOBS = (
    JobConfig(name="cook", places=2, needs_check=True),
    JobConfig(name="server", places=3),
    JobConfig(name="driver", places=1),
)
DEFAULT_OFFER_MINUTES = 120
DEFAULT_SWEEP_SECONDS = 5
DEFAULT_OVERALL_PER_SECOND = 30
MAX_JOB_PLACES = 50


@dataclass(frozen=True, kw_only=True)
class RotaConfig:
    jobs: tuple[JobConfig, ...] = DEFAULT_JOBS
    offer_minutes: int = DEFAULT_OFFER_MINUTES


@dataclass(frozen=True, kw_only=True)
class DeliveryConfig:
    sweep_seconds: int = DEFAULT_SWEEP_SECONDS
    # Telegram allows about 30 messages a second in all. The sending lane counts each send until
    # a second after its answer, so no second at Telegram holds more, and direct replies share
    # the same budget ahead of the outbox: no headroom needs to be left for them.
    overall_per_second: int = DEFAULT_OVERALL_PER_SECOND
    per_chat_seconds: float = 1.0
    per_group_per_minute: int = 20
    max_attempts: int = 5


@dataclass(frozen=True, kw_only=True)
class RemindersConfig:
    offsets_hours: tuple[int, ...] = (24, 2)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)


@dataclass(frozen=True, kw_only=True)
class AlertsConfig:
    unfilled_horizon_hours: int = 48
    late_dropout_hours: int = 24
    morning_list_at: time = time(8, 0)


@dataclass(frozen=True, kw_only=True)
class ReferralsConfig:
    retention_days: int = 60
    daily_limit: int = 10
    # Sealing keys, from the environment: the first seals, all open (see `lunchbot keys`).
    keys: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, kw_only=True)
class BroadcastsConfig:
    # The coordinator's progress message is edited at most this often.
    progress_seconds: int = 5


DEFAULT_PORT = 8080
DEFAULT_CONCURRENCY = 8
# Telegram's rule for setWebhook's secret_token.
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    """The one HTTP server: Telegram's webhook (`lunchbot run --webhook`), health, metrics."""

    webhook_url: str | None = None  # the public HTTPS address Telegram posts updates to
    listen: str = "127.0.0.1"
    port: int | None = None  # polling mode serves health and metrics only when it is set
    # From LUNCHBOT_WEBHOOK_SECRET, never from the file.
    secret: str | None = field(default=None, repr=False)

    def require_webhook(self) -> tuple[str, str]:
        if self.webhook_url is None:
            raise ConfigError(
                "--webhook needs server.webhook_url: the public https:// address that "
                "Telegram will post updates to (see the README, 'Running with a webhook')"
            )
        if self.secret is None:
            raise ConfigError(
                f"--webhook needs {WEBHOOK_SECRET_ENV}: 1-256 letters, digits, _ or -, "
                "for example from: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return self.webhook_url, self.secret


@dataclass(frozen=True, kw_only=True)
class UpdatesConfig:
    # How many chats' updates are handled at once (each chat's one at a time, in order).
    concurrency: int = DEFAULT_CONCURRENCY


@dataclass(frozen=True, kw_only=True)
class Config:
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    programme: ProgrammeConfig = field(default_factory=ProgrammeConfig)
    coordinators: CoordinatorsConfig = field(default_factory=CoordinatorsConfig)
    invites: InvitesConfig = field(default_factory=InvitesConfig)
    rota: RotaConfig = field(default_factory=RotaConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    referrals: ReferralsConfig = field(default_factory=ReferralsConfig)
    celebrations: CelebrationPolicy = field(default_factory=CelebrationPolicy)
    broadcasts: BroadcastsConfig = field(default_factory=BroadcastsConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    updates: UpdatesConfig = field(default_factory=UpdatesConfig)
    source: Path | None = None


# The keys a config file may hold, by section. An unknown key is refused so that a typo
# ("coordinator.telegram_ids") does not silently leave the bot without coordinators.
_KNOWN_KEYS: dict[str, frozenset[str]] = {
    "telegram": frozenset({"api_base_url", "api_file_url"}),
    "database": frozenset({"url"}),
    "programme": frozenset({"name", "timezone"}),
    "coordinators": frozenset({"telegram_ids"}),
    "invites": frozenset({"expire_hours"}),
    "rota": frozenset({"jobs", "offer_minutes"}),
    "delivery": frozenset(
        {
            "sweep_seconds",
            "overall_per_second",
            "per_chat_seconds",
            "per_group_per_minute",
            "max_attempts",
        }
    ),
    "reminders": frozenset({"offsets_hours", "quiet_hours"}),
    "alerts": frozenset({"unfilled_horizon_hours", "late_dropout_hours", "morning_list_at"}),
    "referrals": frozenset({"retention_days", "daily_limit"}),
    "celebrations": frozenset(
        {
            "chats",
            "digest_day",
            "digest_at",
            "meals_milestones",
            "children_milestones",
            "shift_milestones",
            "volunteer_milestones",
        }
    ),
    "broadcasts": frozenset({"progress_seconds"}),
    "server": frozenset({"webhook_url", "listen", "port"}),
    "updates": frozenset({"concurrency"}),
}
_SECRET_KEYS = frozenset({"token", "bot_token", "encryption_key", "webhook_secret"})


def config_path(cli_value: str | None, env: Mapping[str, str]) -> tuple[Path, bool]:
    """The config file to read, and whether the person named it (so it must exist)."""
    if cli_value:
        return Path(cli_value), True
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]), True
    return DEFAULT_CONFIG_PATH, False


def load_config(path: Path, *, must_exist: bool, env: Mapping[str, str] | None = None) -> Config:
    """Read the file at `path` (defaults when it is absent and was not named) and the secrets."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    source: Path | None = None
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{path}: not valid TOML ({exc}); compare it with config.example.toml"
            ) from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
        source = path
    elif must_exist:
        raise ConfigError(
            f"{path}: no such config file; copy config.example.toml to {path} and edit it"
        )
    overridden = _overlay_environment(raw, env)
    return _parse(raw, env, source, overridden)


def _overlay_environment(raw: dict[str, Any], env: Mapping[str, str]) -> list[str]:
    """Put every LUNCHBOT_<SECTION>__<KEY> variable into `raw`, over the file's value, and
    return the variables' names (so a problem with one of them names where it came from).

    A value is read as TOML when it is one (`25`, `true`, `[24, 2]`, `"text"`), and otherwise as
    plain text, so `LUNCHBOT_DATABASE__URL=postgresql://...` needs no quotes."""
    names = []
    for name in sorted(env):
        if not name.startswith(OVERRIDE_PREFIX) or OVERRIDE_SEPARATOR not in name:
            continue
        section, _, key = name[len(OVERRIDE_PREFIX) :].lower().partition(OVERRIDE_SEPARATOR)
        if section not in _KNOWN_KEYS or key not in _KNOWN_KEYS[section]:
            raise ConfigError(
                f"{name}: no such config key; a variable {OVERRIDE_PREFIX}<SECTION>"
                f"{OVERRIDE_SEPARATOR}<KEY> sets a key of config.example.toml, for example "
                f"{OVERRIDE_PREFIX}DATABASE{OVERRIDE_SEPARATOR}URL for [database] url"
            )
        section_values = raw.setdefault(section, {})
        if not isinstance(section_values, dict):
            raise ConfigError(f"{name}: [{section}] in the config file must be a table")
        section_values[key] = _environment_value(env[name])
        names.append(name)
    return names


def _environment_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _parse(
    raw: dict[str, Any], env: Mapping[str, str], source: Path | None, overridden: list[str]
) -> Config:
    where = ", ".join([str(source) if source else "config", *overridden])
    for section, value in raw.items():
        if section in _SECRET_KEYS:
            raise ConfigError(_secret_in_file(where, section))
        if section not in _KNOWN_KEYS:
            known = ", ".join(sorted(_KNOWN_KEYS))
            raise ConfigError(f"{where}: unknown section [{section}]; known sections: {known}")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {section} must be a [{section}] table")
        for key in value:
            if key in _SECRET_KEYS:
                raise ConfigError(_secret_in_file(where, f"{section}.{key}"))
            if key not in _KNOWN_KEYS[section]:
                known = ", ".join(sorted(_KNOWN_KEYS[section]))
                raise ConfigError(f"{where}: unknown key {section}.{key}; known keys: {known}")
    reader = _Reader(raw, where)
    return Config(
        telegram=TelegramConfig(
            api_base_url=reader.url("telegram", "api_base_url"),
            api_file_url=reader.url("telegram", "api_file_url"),
            token=_token(env),
        ),
        database=DatabaseConfig(url=_database_url(reader)),
        programme=ProgrammeConfig(
            name=reader.text("programme", "name", ProgrammeConfig.name, max_length=64),
            timezone=_timezone(reader),
        ),
        coordinators=CoordinatorsConfig(telegram_ids=_coordinator_ids(reader)),
        invites=InvitesConfig(
            expire_hours=reader.integer(
                "invites", "expire_hours", DEFAULT_INVITE_HOURS, low=1, high=MAX_INVITE_HOURS
            )
        ),
        rota=RotaConfig(
            jobs=_jobs(reader),
            offer_minutes=reader.integer(
                "rota", "offer_minutes", DEFAULT_OFFER_MINUTES, low=5, high=7 * 24 * 60
            ),
        ),
        delivery=DeliveryConfig(
            sweep_seconds=reader.integer(
                "delivery", "sweep_seconds", DEFAULT_SWEEP_SECONDS, low=1, high=300
            ),
            overall_per_second=reader.integer(
                "delivery", "overall_per_second", DEFAULT_OVERALL_PER_SECOND, low=1, high=1000
            ),
            per_chat_seconds=reader.number("delivery", "per_chat_seconds", 1.0, low=0.0, high=60.0),
            per_group_per_minute=reader.integer(
                "delivery", "per_group_per_minute", 20, low=1, high=60
            ),
            max_attempts=reader.integer("delivery", "max_attempts", 5, low=1, high=20),
        ),
        reminders=_reminders(reader),
        referrals=ReferralsConfig(
            retention_days=reader.integer("referrals", "retention_days", 60, low=1, high=3650),
            daily_limit=reader.integer("referrals", "daily_limit", 10, low=1, high=1000),
            keys=_keys(env),
        ),
        alerts=AlertsConfig(
            unfilled_horizon_hours=reader.integer(
                "alerts", "unfilled_horizon_hours", 48, low=1, high=24 * 14
            ),
            late_dropout_hours=reader.integer(
                "alerts", "late_dropout_hours", 24, low=1, high=24 * 7
            ),
            morning_list_at=reader.clock_time("alerts", "morning_list_at", time(8, 0)),
        ),
        celebrations=_celebrations(reader),
        broadcasts=BroadcastsConfig(
            progress_seconds=reader.integer("broadcasts", "progress_seconds", 5, low=1, high=600)
        ),
        server=ServerConfig(
            webhook_url=reader.url("server", "webhook_url"),
            listen=reader.text("server", "listen", ServerConfig.listen, max_length=255),
            port=_port(reader),
            secret=_webhook_secret(env),
        ),
        updates=UpdatesConfig(
            concurrency=reader.integer(
                "updates", "concurrency", DEFAULT_CONCURRENCY, low=1, high=100
            )
        ),
        source=source,
    )


def _port(reader: _Reader) -> int | None:
    if reader.get("server", "port", None) is None:
        return None
    return reader.integer("server", "port", DEFAULT_PORT, low=0, high=65535)


def _webhook_secret(env: Mapping[str, str]) -> str | None:
    secret = env.get(WEBHOOK_SECRET_ENV, "").strip()
    if not secret:
        return None
    if not _SECRET_SHAPE.match(secret):
        raise ConfigError(
            f"{WEBHOOK_SECRET_ENV} must be 1-256 letters, digits, _ or - (Telegram's rule)"
        )
    return secret


def _keys(env: Mapping[str, str]) -> tuple[str, ...]:
    primary = env.get(KEY_ENV, "").strip()
    old = [k.strip() for k in env.get(OLD_KEYS_ENV, "").split(",") if k.strip()]
    if not primary and old:
        raise ConfigError(f"{OLD_KEYS_ENV} is set but {KEY_ENV} is not; set the new key too")
    keys = ([primary] if primary else []) + old
    for name, key in [(KEY_ENV, primary)] * bool(primary) + [(OLD_KEYS_ENV, k) for k in old]:
        if not valid_key(key):
            raise ConfigError(
                f"{name} is not a valid key (44 characters of URL-safe base64); "
                "make one with: lunchbot keys new"
            )
    return tuple(keys)


def _reminders(reader: _Reader) -> RemindersConfig:
    offsets = reader.get("reminders", "offsets_hours", [24, 2])
    if (
        not isinstance(offsets, list)
        or not all(
            isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= 24 * 14 for h in offsets
        )
        or len(set(offsets)) != len(offsets)
    ):
        raise ConfigError(
            f"{reader.where}: reminders.offsets_hours must be a list of different whole hours "
            "before a session (1-336), for example [24, 2]; [] sends no reminders"
        )
    quiet = reader.get("reminders", "quiet_hours", "21:00-08:00")
    start, end = _quiet(quiet) if isinstance(quiet, str) else (None, None)
    if start is None or end is None:
        raise ConfigError(
            f'{reader.where}: reminders.quiet_hours must look like "21:00-08:00" (or "" for none)'
        )
    return RemindersConfig(
        offsets_hours=tuple(sorted(offsets, reverse=True)), quiet_start=start, quiet_end=end
    )


def _celebrations(reader: _Reader) -> CelebrationPolicy:
    default = CelebrationPolicy()
    chats = reader.get("celebrations", "chats", [])
    if not isinstance(chats, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) and c != 0 for c in chats
    ):
        raise ConfigError(
            f"{reader.where}: celebrations.chats must be a list of chat ids (numbers; a group's "
            "is negative), for example [-1001234567890]; send /chatid in the group to see it"
        )
    day = reader.get("celebrations", "digest_day", WEEKDAYS[default.digest_weekday])
    if not isinstance(day, str) or day.strip().lower() not in WEEKDAYS:
        raise ConfigError(
            f'{reader.where}: celebrations.digest_day must be a day of the week, like "friday"'
        )
    return CelebrationPolicy(
        chats=tuple(dict.fromkeys(chats)),
        digest_weekday=WEEKDAYS.index(day.strip().lower()),
        digest_at=reader.clock_time("celebrations", "digest_at", default.digest_at),
        meals=_thresholds(reader, "meals_milestones", default.meals),
        children=_thresholds(reader, "children_milestones", default.children),
        shifts=_thresholds(reader, "shift_milestones", default.shifts),
        personal=_thresholds(reader, "volunteer_milestones", default.personal),
    )


def _thresholds(reader: _Reader, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
    value = reader.get("celebrations", key, list(default))
    if not isinstance(value, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 10_000_000 for n in value
    ):
        raise ConfigError(
            f"{reader.where}: celebrations.{key} must be a list of whole numbers from 1 to "
            "10000000, for example [100, 1000]; [] celebrates none"
        )
    return tuple(sorted(set(value)))


def _quiet(text: str) -> tuple[time | None, time | None]:
    if not text.strip():
        return time(0), time(0)  # an empty window: no quiet hours
    parts = text.split("-")
    if len(parts) != 2:
        return None, None
    return _clock(parts[0]), _clock(parts[1])


def _clock(text: str) -> time | None:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        return None


def _jobs(reader: _Reader) -> tuple[JobConfig, ...]:
    value = reader.get("rota", "jobs", None)
    if value is None:
        return DEFAULT_JOBS
    problem = (
        f"{reader.where}: rota.jobs must be a list of [[rota.jobs]] tables, each with a name "
        f"(1-32 letters), places (1-{MAX_JOB_PLACES}) and optionally needs_check = true"
    )
    if not isinstance(value, list) or not value:
        raise ConfigError(problem)
    jobs = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"name", "places", "needs_check"}:
            raise ConfigError(problem)
        name, places = item.get("name"), item.get("places")
        needs_check = item.get("needs_check", False)
        if (
            not isinstance(name, str)
            or not 1 <= len(name.strip()) <= 32
            or ":" in name
            or not isinstance(places, int)
            or isinstance(places, bool)
            or not 1 <= places <= MAX_JOB_PLACES
            or not isinstance(needs_check, bool)
        ):
            raise ConfigError(problem)
        jobs.append(JobConfig(name=name.strip().lower(), places=places, needs_check=needs_check))
    if len({job.name for job in jobs}) != len(jobs):
        raise ConfigError(f"{reader.where}: rota.jobs: each job needs a different name")
    return tuple(jobs)


def _secret_in_file(where: str, key: str) -> str:
    return (
        f"{where}: {key} must not be in the config file (secrets come from the "
        f"environment); remove it and set {TOKEN_ENV} instead"
    )


def _token(env: Mapping[str, str]) -> str | None:
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        return None
    if not _TOKEN_SHAPE.match(token):
        raise ConfigError(
            f"{TOKEN_ENV} does not look like a bot token (expected digits, a colon and a "
            f"long secret); {_BOTFATHER_HINT}"
        )
    return token


def _database_url(reader: _Reader) -> str:
    url = reader.text("database", "url", DEFAULT_DATABASE_URL, max_length=1000)
    # People write the plain forms; the bot needs the asyncio drivers.
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            url = driver + url[len(plain) :]
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            f"{reader.where}: database.url must start with sqlite:/// (a file) or "
            "postgresql:// (a server), for example sqlite:///lunchbot.sqlite3"
        )
    return url


def _timezone(reader: _Reader) -> str:
    name = reader.text("programme", "timezone", DEFAULT_TIMEZONE, max_length=64)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{reader.where}: programme.timezone: {name!r} is not a time zone name; use an "
            "IANA name such as Europe/London"
        ) from None
    return name


def _coordinator_ids(reader: _Reader) -> frozenset[int]:
    value = reader.get("coordinators", "telegram_ids", [])
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) and 0 < item < 2**52 for item in value
    ):
        raise ConfigError(
            f"{reader.where}: coordinators.telegram_ids must be a list of Telegram user ids "
            "(numbers), for example [123456789]; a person can see theirs with /whoami"
        )
    return frozenset(value)


class _Reader:
    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self._raw = raw
        self.where = where

    def get(self, section: str, key: str, default: Any) -> Any:
        return self._raw.get(section, {}).get(key, default)

    def text(self, section: str, key: str, default: str, *, max_length: int) -> str:
        value = self.get(section, key, default)
        if not isinstance(value, str) or not value.strip() or len(value) > max_length:
            raise ConfigError(
                f"{self.where}: {section}.{key} must be a text of 1 to {max_length} characters"
            )
        return value.strip()

    def url(self, section: str, key: str) -> str | None:
        value = self.get(section, key, None)
        if value is None:
            return None
        if isinstance(value, str) and _TOKEN_INSIDE.search(value):
            raise ConfigError(
                f"{self.where}: {section}.{key} seems to contain a bot token; give the address "
                f"only (ending in /bot) and put the token in {TOKEN_ENV}"
            )
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise ConfigError(
                f"{self.where}: {section}.{key} must be an http:// or https:// address, for "
                "example http://127.0.0.1:8081/bot"
            )
        return value

    def number(self, section: str, key: str, default: float, *, low: float, high: float) -> float:
        value = self.get(section, key, default)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not (low <= value <= high)
        ):
            raise ConfigError(
                f"{self.where}: {section}.{key} must be a number from {low:g} to {high:g}"
            )
        return float(value)

    def clock_time(self, section: str, key: str, default: time) -> time:
        value = self.get(section, key, None)
        if value is None:
            return default
        parsed = _clock(value) if isinstance(value, str) else None
        if parsed is None:
            raise ConfigError(f'{self.where}: {section}.{key} must be a time of day like "08:00"')
        return parsed

    def integer(self, section: str, key: str, default: int, *, low: int, high: int) -> int:
        value = self.get(section, key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(
                f"{self.where}: {section}.{key} must be a whole number from {low} to {high}"
            )
        return value

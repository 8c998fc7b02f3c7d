"""Config: defaults, every wrong value named in one line, secrets never echoed."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, config_path, load_config

GOOD_TOKEN = "123456789:AAHk1-abcdefghijklmnopqrstuvwxyz0123"


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path, must_exist=True, env=env or {})


def test_the_example_config_loads_as_it_is() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    config = load_config(example, must_exist=True, env={"TELEGRAM_BOT_TOKEN": GOOD_TOKEN})
    assert config.programme.timezone == "Europe/London"
    assert config.database.url == "sqlite+aiosqlite:///lunchbot.sqlite3"
    assert config.telegram.require_token() == GOOD_TOKEN
    assert GOOD_TOKEN not in repr(config)


def test_no_file_means_defaults_unless_the_file_was_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    config = load_config(missing, must_exist=False, env={})
    assert config.source is None and config.coordinators.telegram_ids == frozenset()
    with pytest.raises(ConfigError, match=r"no such config file; copy config.example.toml"):
        load_config(missing, must_exist=True, env={})


def test_the_config_path_comes_from_the_flag_then_the_environment() -> None:
    assert config_path("a.toml", {"LUNCHBOT_CONFIG": "b.toml"}) == (Path("a.toml"), True)
    assert config_path(None, {"LUNCHBOT_CONFIG": "b.toml"}) == (Path("b.toml"), True)
    assert config_path(None, {}) == (Path("config.toml"), False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[programme]\ntimezone = 'Mars/Olympus'", "programme.timezone: 'Mars/Olympus' is not a"),
        ("[coordinators]\ntelegram_ids = ['rachel']", "coordinators.telegram_ids must be a list"),
        ("[coordinators]\ntelegram_id = [1]", "unknown key coordinators.telegram_id; known keys"),
        ("[coordinator]\ntelegram_ids = [1]", "unknown section [coordinator]"),
        ("[database]\nurl = 'mysql://x'", "database.url must start with sqlite:/// "),
        ("[invites]\nexpire_hours = 0", "invites.expire_hours must be a whole number from 1 to"),
        ("[telegram]\napi_base_url = 'ftp://x'", "telegram.api_base_url must be an http://"),
        (f"[telegram]\napi_base_url = 'https://x/bot{GOOD_TOKEN}'", "seems to contain a bot token"),
        ("[programme\nname = 'x'", "not valid TOML"),
    ],
)
def test_a_wrong_value_is_named_with_how_to_fix_it(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_secret_in_the_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, f"[telegram]\ntoken = '{GOOD_TOKEN}'")
    assert "telegram.token must not be in the config file" in str(caught.value)
    assert GOOD_TOKEN not in str(caught.value)


def test_a_malformed_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "", env={"TELEGRAM_BOT_TOKEN": "not-a-token-secret"})
    assert "TELEGRAM_BOT_TOKEN does not look like a bot token" in str(caught.value)
    assert "not-a-token-secret" not in str(caught.value)


def test_a_missing_token_points_to_botfather_and_the_demo(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    with pytest.raises(ConfigError, match=r"@BotFather.*lunchbot demo"):
        config.telegram.require_token()


def test_plain_database_urls_get_the_async_drivers(tmp_path: Path) -> None:
    config = _load(tmp_path, "[database]\nurl = 'postgresql://u@h/db'")
    assert config.database.url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[reminders]\noffsets_hours = [24, 24]", "reminders.offsets_hours must be a list"),
        ("[reminders]\noffsets_hours = [0]", "reminders.offsets_hours must be a list"),
        ("[reminders]\nquiet_hours = 'late'", "reminders.quiet_hours must look like"),
        ("[alerts]\nmorning_list_at = '8am'", "alerts.morning_list_at must be a time of day"),
        (
            "[delivery]\noverall_per_second = 0",
            "delivery.overall_per_second must be a whole number",
        ),
        ("[delivery]\nper_chat_seconds = 'one'", "delivery.per_chat_seconds must be a number"),
        ("[[rota.jobs]]\nname = 'cook'\nplaces = 99", "rota.jobs must be a list"),
        ("[celebrations]\nchats = ['my group']", "celebrations.chats must be a list of chat ids"),
        ("[celebrations]\ndigest_day = 'fri'", "celebrations.digest_day must be a day"),
        ("[celebrations]\ndigest_at = '4pm'", "celebrations.digest_at must be a time of day"),
        ("[celebrations]\nmeals_milestones = [0]", "celebrations.meals_milestones must be"),
        ("[broadcasts]\nprogress_seconds = 0", "broadcasts.progress_seconds must be a whole"),
    ],
)
def test_reminder_delivery_and_rota_settings_are_checked(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, text)


def test_reminder_settings_are_read(tmp_path: Path) -> None:
    config = _load(tmp_path, "[reminders]\noffsets_hours = [2, 48]\nquiet_hours = ''\n")
    assert config.reminders.offsets_hours == (48, 2)
    assert config.reminders.quiet_start == config.reminders.quiet_end


def test_celebration_settings_are_read(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[celebrations]\nchats = [-1001, -1001, -1002]\ndigest_day = 'Monday'\n"
        "digest_at = '09:30'\nvolunteer_milestones = [10, 1]\nshift_milestones = []\n",
    )
    policy = config.celebrations
    assert policy.chats == (-1001, -1002)
    assert (policy.digest_weekday, policy.digest_at) == (0, time(9, 30))
    assert (policy.personal, policy.shifts) == ((1, 10), ())


def test_any_key_can_come_from_the_environment_and_wins_over_the_file(tmp_path: Path) -> None:
    config = _load(
        tmp_path,
        "[database]\nurl = 'sqlite:///from-the-file.sqlite3'\n[delivery]\nsweep_seconds = 9\n",
        env={
            "LUNCHBOT_DATABASE__URL": "postgresql://lunchbot:s3cret@db.internal/lunchbot",
            "LUNCHBOT_DELIVERY__OVERALL_PER_SECOND": "20",
            "LUNCHBOT_REMINDERS__OFFSETS_HOURS": "[48, 3]",
            "LUNCHBOT_PROGRAMME__NAME": "St Mark's Lunch Club",
            "LUNCHBOT_CONFIG": "ignored here: it names the file, not a key",
        },
    )
    assert config.database.url == "postgresql+asyncpg://lunchbot:s3cret@db.internal/lunchbot"
    assert config.delivery.overall_per_second == 20
    assert config.delivery.sweep_seconds == 9  # the file's, where nothing overrides it
    assert config.reminders.offsets_hours == (48, 3)
    assert config.programme.name == "St Mark's Lunch Club"


def test_a_wrong_environment_key_or_value_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^LUNCHBOT_DATABSE__URL: no such config key; .*"):
        _load(tmp_path, "", env={"LUNCHBOT_DATABSE__URL": "sqlite:///x.sqlite3"})
    with pytest.raises(
        ConfigError,
        match=r"LUNCHBOT_DELIVERY__MAX_ATTEMPTS: delivery.max_attempts must be a whole number",
    ):
        _load(tmp_path, "", env={"LUNCHBOT_DELIVERY__MAX_ATTEMPTS": "many"})
    # A secret is never a config key, from the file or the environment.
    with pytest.raises(ConfigError, match=r"^LUNCHBOT_TELEGRAM__TOKEN: no such config key"):
        _load(tmp_path, "", env={"LUNCHBOT_TELEGRAM__TOKEN": GOOD_TOKEN})


def test_the_webhook_takes_its_address_from_config_and_its_secret_from_the_environment(
    tmp_path: Path,
) -> None:
    text = '[server]\nwebhook_url = "https://lunch.example.org/telegram"\nport = 8443\n'
    config = _load(tmp_path, text, {"LUNCHBOT_WEBHOOK_SECRET": "abc_DEF-123"})
    assert config.server.require_webhook() == ("https://lunch.example.org/telegram", "abc_DEF-123")
    assert config.server.port == 8443
    assert "abc_DEF" not in repr(config)
    with pytest.raises(ConfigError, match=r"--webhook needs LUNCHBOT_WEBHOOK_SECRET"):
        _load(tmp_path, text).server.require_webhook()
    with pytest.raises(ConfigError, match=r"--webhook needs server.webhook_url"):
        _load(tmp_path, "", {"LUNCHBOT_WEBHOOK_SECRET": "x"}).server.require_webhook()
    with pytest.raises(ConfigError, match=r"LUNCHBOT_WEBHOOK_SECRET must be 1-256 letters"):
        _load(tmp_path, text, {"LUNCHBOT_WEBHOOK_SECRET": "has spaces"})
    with pytest.raises(ConfigError, match=r"server.webhook_secret"):
        _load(tmp_path, text + 'webhook_secret = "in the file"\n')


def test_the_database_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """It holds names, phone numbers and sealed referrals."""
    _upgrade_database_in(tmp_path)
    assert (tmp_path / "private.sqlite3").exists()
    for file in tmp_path.glob("private.sqlite3*"):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name

    # A file made before (by an older version, with the usual 0644) is tightened on open.
    (tmp_path / "private.sqlite3").chmod(0o644)
    _upgrade_database_in(tmp_path)
    assert stat.S_IMODE((tmp_path / "private.sqlite3").stat().st_mode) == 0o600


def _upgrade_database_in(folder: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=folder,
        env={k: v for k, v in os.environ.items() if k != "LUNCHBOT_CONFIG"}
        | {"LUNCHBOT_DATABASE__URL": "sqlite:///private.sqlite3"},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr

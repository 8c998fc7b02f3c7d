"""The `lunchbot` command as a person at a terminal meets it: one clear line for each problem,
and the demo's transcript."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_demo_runs_with_no_token_and_prints_its_story(tmp_path: Path) -> None:
    result = lunchbot("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Rachel (coordinator) sends: /start" in out
    assert "Here is a one-time invite link for a contact at Hillside Primary" in out
    assert "Mr Okafor (school contact) taps [✅ I agree]" in out
    assert "Booked: you're a server at St Mark's church hall" in out
    assert "Saved: 38 meals served and 31 children" in out
    assert "📨 Received: HS-014." in out
    assert "📬 Referral HS-014: placed at St Mark's church hall, Tue & Thu" in out
    assert "⏰ Tomorrow 11:30-13:30: you're driver at St Mark's church hall" in out
    assert "✅ HS-014 (Hillside Primary): 2 children" in out
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


def test_an_unreachable_bot_api_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[telegram]\napi_base_url = 'http://127.0.0.1:9/bot'\n")
    result = lunchbot("run", cwd=tmp_path, env={"TELEGRAM_BOT_TOKEN": GOOD_TOKEN})
    assert result.returncode == 1
    assert "could not reach the Bot API at http://127.0.0.1:9/bot" in result.stderr
    assert GOOD_TOKEN not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("sample", [ROOT / "examples" / "sessions.csv"])
def test_importing_sessions_reports_lines_and_writes_all_or_nothing(
    tmp_path: Path, sample: Path
) -> None:
    refused = lunchbot("import", str(sample), cwd=tmp_path)
    assert refused.returncode == 1
    assert "line 2: no location called “St Mark's church hall”" in refused.stdout
    assert "nothing was imported" in refused.stderr


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
    assert rotated.stdout.startswith("Re-sealed 0 referrals")
    bad = lunchbot(
        "privacy", "report", cwd=tmp_path, env={"LUNCHBOT_ENCRYPTION_KEY": "not-a-key-at-all"}
    )
    assert bad.returncode == 2
    assert "LUNCHBOT_ENCRYPTION_KEY is not a valid key" in bad.stderr
    assert "not-a-key-at-all" not in bad.stderr

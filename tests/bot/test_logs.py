"""The log is for operators: with `--verbose` too, it carries no word a person typed, no name,
no child's detail and no SQL values, from our code or a library's."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_cli import lunchbot

# What the demo's people type or are called: a referral's allergy and family reference, a
# volunteer's name, a location's address.
SEEDED = ("nut allergy", "HS-014", "Sam Taylor", "12 Church Lane", "Hillside Primary")


def test_a_verbose_run_logs_no_personal_detail_and_no_noise(tmp_path: Path) -> None:
    result = lunchbot("--verbose", "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert "Demo finished" in result.stdout
    for value in SEEDED:
        assert value in result.stdout  # the demo did use it...
        assert value not in log, value  # ...and the log never carries it
    # The database drivers' statement lines, and the scheduler's "skipped: maximum number of
    # running instances reached" for a sweep still at work, are not events worth a line.
    for noise in ("aiosqlite", "asyncpg", "maximum number of running instances", "findfont"):
        assert noise not in log, noise
    assert "Traceback" not in log

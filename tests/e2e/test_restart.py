"""A restart loses nothing: half-filled forms live in the database, not in memory."""

from __future__ import annotations

from bot.config import Config
from bot.harness import Clock, Rehearsal
from storage import rota
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.e2e.test_rota import choose_where


async def test_a_half_planned_week_and_a_renaming_continue_after_a_restart(
    config: Config, clock: Clock
) -> None:
    async with Rehearsal(config, clock=clock) as bot:
        await register(bot, RACHEL, "Rachel")
        rachel = bot.user(RACHEL, "Rachel")
        await rachel.send("/locations")
        await rachel.tap("➕ Add a location")
        await rachel.send("St Mark's")
        await choose_where(rachel, "St Mark's")
        await rachel.send("27/07/2026 - 30/07/2026")
        await rachel.tap("Continue ▶")
        assert "What time?" in rachel.last.text

    async with Rehearsal(config, clock=clock) as again:
        rachel = again.user(RACHEL, "Rachel")
        await rachel.send("11:30-13:30")
        assert "Which jobs, and how many people?" in rachel.last.text
        await rachel.tap("Use these")
        await rachel.tap("✅ Create them")
        assert "Created 4 sessions at St Mark's" in rachel.last.text
        # A second tap on the same button repeats the answer and creates nothing twice.
        await rachel.tap_data("wc")
        assert "Created 4 sessions at St Mark's" in rachel.last.text
        page = await rota.upcoming(
            again.services.db, telegram_id=RACHEL, now=again.services.now(), offset=0, limit=10
        )
        assert page.total == 4

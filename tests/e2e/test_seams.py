"""Where issue 12's four parts meet, as a coordinator meets them: a list's search stays with
its list (a command or another screen ends it); someone without Telegram on a rota is named
to the coordinator where the bot can't reach them (a message to the team, a snow day); a snow
day reads right in the cancel's answer and in /today's day at every location; /help says what
/coverage's horizons are."""

from __future__ import annotations

from bot.harness import Clock, Rehearsal
from tests.conftest import RACHEL
from tests.e2e.test_act_for import open_rota, world
from tests.e2e.test_long_screens import no_refusals

NOT_UNDERSTOOD = "I work with commands and buttons. Send /help to see what I can do."


async def test_a_search_ends_when_another_screen_is_asked_for(bot: Rehearsal, clock: Clock) -> None:
    await world(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")

    await rachel.send("/people")
    await rachel.send("ais")
    assert "🔎 Matching “ais”" in rachel.last.text
    # /week shows no list: what is typed next is not a search of the people left behind.
    for other in ("/week", "/help", "/whoami", "/start"):
        await rachel.send("/people")
        await rachel.send("ais")
        await rachel.send(other)
        await rachel.send("riverside")
        assert rachel.last.text == NOT_UNDERSTOOD, other

    # "🗓 The week" from /today's day at every location: the day's list hears no more either.
    await rachel.send("/today")
    await rachel.send("riv")
    assert "🔎 Matching “riv”" in rachel.last.text
    await rachel.tap("🗓 The week")
    await rachel.send("st mark")
    assert rachel.last.text == NOT_UNDERSTOOD

    # A command that shows a list hears the next text, as before.
    await rachel.send("/people")
    await rachel.send("aisha")
    assert "🔎 Matching “aisha”" in rachel.last.text
    no_refusals(bot)


async def test_a_snow_day_with_someone_without_telegram_reads_right(
    bot: Rehearsal, clock: Clock
) -> None:
    await world(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await open_rota(rachel, "St Mark's")
    await rachel.tap("➕ Put someone on")
    await rachel.tap("server · 2 free")
    await rachel.tap("➕ Someone without Telegram")
    await rachel.send("Olive Offline")
    # A message to the team can't reach her: Rachel is told to, as the cancel below tells her.
    await rachel.tap("✉️ Write to the team")
    assert rachel.last.text.endswith(
        "☎ Olive Offline has no Telegram: the message won't reach them, so tell them yourself."
    )
    await rachel.send("/cancel")

    await rachel.send("/cancelsessions")
    await rachel.send("28/07/2026")
    await rachel.tap("Choose locations…")
    await rachel.tap("St Mark's · 1")
    await rachel.tap("Continue ▶ (1 location)")
    assert (
        "☎️ 1 person on these sessions without Telegram will not hear it from the bot: please "
        "phone them: Olive Offline (St Mark's)."
    ) in rachel.last.text
    await rachel.tap("❄️ Yes, cancel 1 session")
    assert (
        "☎️ 1 person on these sessions without Telegram was not told by the bot: please phone "
        "them: Olive Offline (St Mark's)."
    ) in rachel.last.text

    await rachel.send("/today")
    assert "🚫 1 lunch cancelled." in rachel.last.text
    assert "⚪ St Mark's · 11:30-13:30\n      cancelled" in rachel.last.text
    no_refusals(bot)


async def test_help_says_what_coverage_looks_over(bot: Rehearsal, clock: Clock) -> None:
    await world(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/help")
    # Not "7 days to the holiday", which reads as the days before it begins.
    assert "/coverage - Places to fill by location: 7, 14, 28 days or the holiday" in (
        rachel.last.text
    )


async def test_someone_without_telegram_is_found_in_people_for_a_check_and_erasure(
    bot: Rehearsal, clock: Clock
) -> None:
    """The rota sends a coordinator to /people to record a check: Olive, without Telegram, is
    there (marked ☎), with her check and erasure and no roles to change; and once her lunch is
    over (no place on a rota to come), /people is where she is erased on request."""
    await world(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await open_rota(rachel, "St Mark's")
    await rachel.tap("➕ Put someone on")
    await rachel.tap("server · 2 free")
    await rachel.tap("➕ Someone without Telegram")
    await rachel.send("Olive Offline")

    await rachel.send("/people")
    everyone = rachel.last
    assert "Showing: everyone (505)." in everyone.text  # Olive too
    assert "✉️ Message these 503 people" in everyone.labels()  # not Olive (nor Rachel)
    await rachel.send("olive")
    assert "• ☎ Olive Offline: volunteer (no Telegram)" in rachel.last.text
    await rachel.tap("☎ Olive Offline")
    card = rachel.last
    assert card.text.startswith("☎ Olive Offline\nRoles: volunteer\nNo Telegram:")
    assert card.labels() == ["🛡 Safeguarding check", "🗑 Erase their data", "« All people"]
    await rachel.tap("🛡 Safeguarding check")
    await rachel.tap("Cleared")
    await rachel.send("31/08/2027")
    # ...so she can cook on Wednesday, which the rota refused without a check.
    await rachel.send("/today")
    await rachel.tap("St Mark's")
    await rachel.tap("Wed 29 Jul ▶")
    await rachel.tap("⚙️ Change or cancel session")
    await rachel.tap("👥 The rota: put on, move, take off")
    await rachel.tap("➕ Put someone on")
    await rachel.tap("cook · 1 free")
    await rachel.send("olive")
    await rachel.tap("☎ Olive Offline")
    assert rachel.last.text.startswith("✅ ☎ Olive Offline is on the rota as cook.")

    # Blocked the bot counts only those who could: Olive has no chat to block.
    await rachel.send("/people")
    await rachel.tap("🔎 Filters")
    assert "🚫 Blocked the bot · 0" in rachel.last.labels()

    # A week on, her lunches are over: she asks to be forgotten, and /people erases her.
    clock.advance(days=7)
    await rachel.send("/people")
    await rachel.send("olive")
    await rachel.tap("☎ Olive Offline")
    await rachel.tap("🗑 Erase their data")
    await rachel.tap("Yes, erase")
    await rachel.send("/people")
    await rachel.send("olive")
    assert "Nothing matches “olive”" in rachel.last.text
    no_refusals(bot)


async def test_the_short_morning_list_puts_the_worst_gaps_first(
    bot: Rehearsal, clock: Clock
) -> None:
    """As /today does, and the long list's summary: St Mark's, with nobody booked, before
    Riverside, with a volunteer (not A to Z)."""
    await world(bot, clock)
    rachel = bot.user(RACHEL, "Rachel")
    await open_rota(rachel, "Riverside")
    await rachel.tap("➕ Put someone on")
    await rachel.tap("server · 2 free")
    await rachel.send("ais")
    await rachel.tap("Aisha Khan")
    await rachel.send("/today")
    today = rachel.last.text
    assert today.index("St Mark's ·") < today.index("Riverside ·")

    await bot.deliver()
    (morning,) = [m for m in rachel.bot_messages if m.text.startswith("☀️")]
    assert "St Mark's, Tue 28 Jul, 11:30-13:30: 0 booked\n⚠️ Nobody is booked yet" in (morning.text)
    assert morning.text.index("St Mark's, Tue") < morning.text.index("Riverside, Tue")

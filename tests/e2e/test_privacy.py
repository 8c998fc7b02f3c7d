"""Privacy that holds when people try to get round it: dates far away that would keep a
referral's details for ever, and the purge that must leave nothing readable behind."""

from __future__ import annotations

from bot.harness import Rehearsal
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.e2e.test_referral_form import hillside
from tests.e2e.test_rota import add_location
from tests.e2e.test_triage import referred
from tests.support import Clock

SAM = 3001
FAR_AHEAD = "01/01/9999 - 05/01/9999"
LONG_AGO = "01/01/1900"


async def test_dates_far_ahead_or_long_ago_are_refused_wherever_they_are_typed(
    bot: Rehearsal, clock: Clock
) -> None:
    """Today is 1 July 2026: a school, a coordinator placing a family or planning a holiday,
    a safeguarding check and an impact report all stay within a sensible window."""
    okafor = await hillside(bot, clock)
    await okafor.send("/refer")
    await okafor.send("HS-014")
    await okafor.tap("1")
    await okafor.tap("Year 2")
    await okafor.send("nut allergy")
    await okafor.tap("St Mark's")
    await okafor.tap("Next ▶")
    await okafor.send(FAR_AHEAD)
    assert "from today to a year ahead" in okafor.last.text
    await okafor.send("28/07/2026 - 02/07/2027")  # a year and a day from today
    assert "from today to a year ahead" in okafor.last.text
    await okafor.send("28/07/2026 - 27/08/2026")
    assert "From Tue 28 Jul to Thu 27 Aug 2026" in okafor.last.text

    rachel = bot.user(RACHEL, "Rachel")
    await add_location(rachel, "Hope Hall", "1 Hope Street")
    await rachel.send("/newsessions")
    await rachel.tap("Hope Hall")
    await rachel.send(FAR_AHEAD)
    assert "from today to a year ahead" in rachel.last.text
    await rachel.send("27/07/2026 - 31/07/2026")
    assert "On which days?" in rachel.last.text
    await rachel.send("/cancel")

    await register(bot, SAM, "Sam")
    await rachel.send("/people")
    await rachel.tap("Sam")
    await rachel.tap("🛡 Safeguarding check")
    await rachel.tap("Cleared")
    for typed in ("31/12/9999", LONG_AGO, "30/06/2026", "01/07/2026"):
        await rachel.send(typed)
        assert "after today and at most five years ahead" in rachel.last.text, typed
    await rachel.send("31/08/2027")
    assert "Recorded: safeguarding check cleared until 31 Aug 2027" in rachel.last.text

    await rachel.send("/impact")
    await rachel.tap("Choose dates…")
    await rachel.send(f"{LONG_AGO} - 02/01/1900")
    assert "a report starts at most 5 years ago" in rachel.last.text
    await rachel.send("01/07/2021 - 01/07/2021")
    assert "Impact report, 1 Jul 2021" in rachel.last.text


async def test_a_placement_far_ahead_is_refused(bot: Rehearsal) -> None:
    await referred(bot)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's")
    await rachel.tap("📅 Other dates")
    await rachel.send(FAR_AHEAD)
    assert "from today to a year ahead" in rachel.last.text
    await rachel.send("04/08/2026 - 27/08/2026")
    assert rachel.last.text.startswith("✅ Placed.")

"""What people type that is not what a form expects: other scripts' digits, control characters
pasted from another program, invisible characters inside formatted text. Each gets a kind reply
and changes nothing, or is cleaned before it is kept."""

from __future__ import annotations

from sqlalchemy import select

from bot.harness import Rehearsal
from handlers import rota_texts, texts
from storage.locations import Field
from storage.models import Draft, Location, Person
from storage.text import Problem
from tests.conftest import RACHEL
from tests.e2e.test_broadcasts import HEADING, volunteers
from tests.e2e.test_joining import register
from tests.e2e.test_rota import add_location


async def test_a_superscript_two_as_children_a_day_is_asked_again_not_a_crash(
    bot: Rehearsal,
) -> None:
    await register(bot, RACHEL, "Rachel")
    rachel = bot.user(RACHEL, "Rachel")
    await add_location(rachel, "St Mark's", "Church Lane")
    for typed in ("²", "٣٠", "３０", "1e3", "-5"):
        await rachel.tap("✏️ Children a day")
        await rachel.send(typed)
        assert rachel.last.text == rota_texts.location_field_invalid(Field.CAPACITY), typed
    async with bot.services.db.transaction() as session:
        capacity = await session.scalar(select(Location.daily_child_capacity))
    assert not capacity  # not set, as before
    await rachel.send("30")
    assert "Children a day: 30" in rachel.last.text


async def test_control_characters_in_a_broadcast_are_refused_with_a_reason(
    bot: Rehearsal,
) -> None:
    await register(bot, RACHEL, "Rachel")
    await volunteers(bot, 2)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/broadcast")
    await rachel.tap("All volunteers")
    for pasted in ("Lunch\x00 at noon", "Ding\x07 dong", "\x1b[31mRED\x1b[0m lunch"):
        await rachel.send(pasted)
        assert rachel.last.text == texts.typed_refused(Problem.CONTROL)
    await rachel.send_photo(caption="Look\x07 at this")
    assert rachel.last.text == texts.typed_refused(Problem.CONTROL)
    async with bot.services.db.transaction() as session:
        (data,) = (await session.scalars(select(Draft.data))).all()
    assert "text" not in data  # nothing kept, still waiting for the message
    # Still waiting: a clean message goes through to the preview.
    await rachel.send("Lunch at noon")
    preview = rachel.bot_messages[-2]
    assert preview.text == f"{HEADING}\n\nLunch at noon"


async def test_invisible_characters_are_stripped_and_the_bold_stays_on_its_word(
    bot: Rehearsal,
) -> None:
    """A zero-width space and a right-to-left override before a bold word: both go, and the
    bold still covers exactly that word in what the volunteers get."""
    await register(bot, RACHEL, "Rachel")
    await volunteers(bot, 1)
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/broadcast")
    await rachel.tap("All volunteers")
    typed = "Hi\u200b\u202e 👋\tLunch is at noon today"

    def units(text: str) -> int:  # offsets in UTF-16 units, as Telegram counts them: 👋 is two
        return len(text.encode("utf-16-le")) // 2

    bold, link = units(typed[: typed.index("noon")]), units(typed[: typed.index("Lunch")])
    await rachel.send(
        typed,
        entities=[
            {"type": "bold", "offset": bold, "length": 4},
            {"type": "text_link", "offset": link, "length": 5, "url": "https://example.org/"},
        ],
    )
    preview = rachel.bot_messages[-2]
    body = "Hi 👋 Lunch is at noon today"
    assert preview.text == f"{HEADING}\n\n{body}"
    shown = preview.text
    assert {"type": "bold", "offset": units(shown[: shown.index("noon")]), "length": 4} in (
        preview.entities
    )
    assert {
        "type": "text_link",
        "offset": units(shown[: shown.index("Lunch is")]),
        "length": 5,
        "url": "https://example.org/",
    } in preview.entities


async def test_a_name_with_control_characters_is_refused_and_a_flag_is_kept(
    bot: Rehearsal,
) -> None:
    await register(bot, 3001, "Sam")
    sam = bot.user(3001, "Sam")
    await sam.send("/name Sam\x07 Taylor")
    assert sam.last.text == texts.typed_refused(Problem.CONTROL)
    await sam.send("/name")
    await sam.send("Sam\x1b Taylor")
    assert sam.last.text == texts.typed_refused(Problem.CONTROL)
    await sam.send("Sam Taylor 🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f")
    async with bot.services.db.transaction() as session:
        name = await session.scalar(select(Person.display_name).where(Person.telegram_id == 3001))
    assert name == "Sam Taylor 🏴󠁧󠁢󠁷󠁬󠁳󠁿"

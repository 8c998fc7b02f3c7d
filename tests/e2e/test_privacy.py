"""Privacy that holds when people try to get round it: dates far away that would keep a
referral's details for ever, and the purge that must leave nothing readable behind."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text

from bot import privacy
from bot.config import Config
from bot.harness import Rehearsal
from storage import locations, referrals
from storage.crypto import Cipher, SealError
from storage.db import Database
from storage.referrals import ReferralForm
from tests.conftest import RACHEL
from tests.e2e.test_joining import register
from tests.e2e.test_referral_form import AGREED, SEND, hillside
from tests.e2e.test_rota import add_location, choose_where
from tests.e2e.test_triage import ALLERGY as NEEDS
from tests.e2e.test_triage import OKAFOR, lunches, referred
from tests.support import Clock

SAM = 3001
ALLERGY = "sesame and kiwi allergy"
REMOVED = "This message showed a referral's details"
_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_=-]{40,}")
# Every table that ever held a referral's sealed details or its data key.
SEALED_TABLES = ("referrals", "data_keys", "drafts")
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
    await okafor.tap("Continue ▶")
    await okafor.send(FAR_AHEAD)
    assert "from today to a year ahead" in okafor.last.text
    await okafor.send("28/07/2026 - 02/07/2027")  # a year and a day from today
    assert "from today to a year ahead" in okafor.last.text
    await okafor.send("28/07/2026 - 27/08/2026")
    assert "From Tue 28 Jul to Thu 27 Aug 2026" in okafor.last.text

    rachel = bot.user(RACHEL, "Rachel")
    await add_location(rachel, "Hope Hall", "1 Hope Street")
    await choose_where(rachel, "Hope Hall")
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
    st_marks = (await locations.listed(bot.services.db))[0].location_id
    await lunches(bot, st_marks, date(2026, 8, 4), date(2026, 8, 6))
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 4 of 10 days")
    await rachel.tap("📅 Other dates")
    await rachel.send(FAR_AHEAD)
    assert "from today to a year ahead" in rachel.last.text
    await rachel.send("04/08/2026 - 27/08/2026")
    await rachel.tap("✅ Place on 2 days")
    assert rachel.last.text.startswith("✅ Placed on 2 days: Tue 4 Aug and Thu 6 Aug.")


async def raw_copies(db: Database) -> bytes:
    """Every byte the database keeps of the tables that hold sealed details, live or dead:
    SQLite's file and its WAL; PostgreSQL's pages, read raw (pageinspect), dead rows too."""
    if db.is_sqlite:
        path = Path(db.url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    pages = []
    async with db.transaction() as session:
        await session.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        size = int(await session.scalar(text("SELECT current_setting('block_size')")) or 8192)
        for table in SEALED_TABLES:
            length = await session.scalar(text(f"SELECT pg_relation_size('{table}')"))
            for page in range(int(length or 0) // size):
                raw = await session.scalar(text(f"SELECT get_raw_page('{table}', {page})"))
                pages.append(bytes(raw))
    return b"".join(pages)


def readable(blob: bytes, cipher: Cipher) -> set[str]:
    """Everything the programme key opens in `blob`: sealed values, and through any data key
    it unwraps there, what those keys sealed."""
    tokens = {token for match in _TOKEN.findall(blob) for token in _cut(match.decode())}
    opened = set()
    for token in tokens:
        try:
            opened.add(cipher.open(token) or "")
        except SealError:
            continue
    data_keys = []
    for value in opened:
        try:
            data_keys.append(Fernet(value.encode()))
        except ValueError:
            continue
    for key in data_keys:
        for token in tokens:
            try:
                opened.add(key.decrypt(token.encode()).decode())
            except InvalidToken:
                continue
    return opened


def _cut(run: str) -> list[str]:
    """The Fernet tokens a run of base64 characters may start with: the bytes stored after a
    token (a date, say) can run on in the same alphabet, so every length a token can have
    (57 + 16n bytes, base64-encoded) is tried."""
    lengths = (4 * -(-(57 + 16 * n) // 3) for n in range(len(run)))
    return [run[:size] for size in itertools.takewhile(lambda size: size <= len(run), lengths)]


async def test_after_the_purge_no_copy_of_the_allergy_opens_and_its_messages_are_edited(
    bot: Rehearsal, clock: Clock
) -> None:
    """Mr Okafor refers HS-014 with a nut allergy; Rachel places it and opens the register;
    both saw the allergy on screen. 60 days after the last lunch day the purge runs: the
    messages that showed it are edited, and nothing left in the database files (dead rows,
    the WAL) opens with the programme key to give it back."""
    okafor = await hillside(bot, clock)
    (st_marks,) = [
        place
        for place in await locations.managed_by(bot.services.db, actor_telegram_id=RACHEL)
        if place.name == "St Mark's"
    ]
    await lunches(bot, st_marks.location_id, date(2026, 7, 28), date(2026, 7, 30))
    await okafor.send("/refer")
    await okafor.send("HS-014")
    await okafor.tap("2")
    await okafor.tap("Year 2")
    await okafor.tap("Year 5")
    await okafor.send(ALLERGY)
    await okafor.tap("St Mark's")
    await okafor.tap("Continue ▶")
    await okafor.send("28/07/2026 - 27/08/2026")
    for day in ("✓ Mon", "✓ Wed", "✓ Fri"):
        await okafor.tap(day)
    await okafor.tap("Continue ▶")
    await okafor.tap(AGREED)
    await okafor.tap("Skip")
    await okafor.tap(SEND)
    await okafor.send("/myreferrals")
    await okafor.tap("HS-014: received")
    assert ALLERGY in okafor.last.text

    rachel = bot.user(RACHEL, "Rachel")
    await bot.deliver()
    await rachel.send("/referrals")
    await rachel.tap("HS-014 · Hillside Primary · 2 children")
    assert ALLERGY in rachel.last.text
    await rachel.tap("📍 Place")
    await rachel.tap("★ St Mark's · 2 of 10 days")
    await rachel.tap("✅ Place on 2 days")
    assert rachel.last.text.startswith("✅ Placed on 2 days")
    clock.now = datetime(2026, 7, 28, 7, 0, tzinfo=UTC)
    await rachel.send("/register")
    await rachel.tap("St Mark's")
    assert ALLERGY in rachel.last.text

    db, cipher = bot.services.db, bot.services.cipher
    assert cipher is not None
    # Another family, asked for next year, keeps its key alive on the same pages.
    later = ReferralForm(
        reference="HS-015",
        children=1,
        age_bands=("Year 1",),
        needs="halal",
        note=None,
        preferred_location_ids=(),
        first_day=date(2027, 4, 5),
        last_day=date(2027, 4, 9),
        weekdays=(0, 1, 2, 3, 4),
        consent=True,
    )
    await referrals.submit(
        db, cipher, telegram_id=okafor.id, form=later, now=clock(), daily_limit=10
    )
    copies = readable(await raw_copies(db), cipher)
    assert ALLERGY in copies and "halal" in copies  # the check can see what is there

    clock.now = datetime(2026, 10, 27, 9, 0, tzinfo=UTC)  # well past 60 days after 30 July
    await bot.deliver()

    for person in (rachel, okafor):
        assert [m.text for m in person.bot_messages if ALLERGY in m.text] == []
    assert sum(REMOVED in m.text for m in rachel.bot_messages) == 2  # the card, the register
    assert sum(REMOVED in m.text for m in okafor.bot_messages) == 1
    copies = readable(await raw_copies(db), cipher)
    assert ALLERGY not in copies
    assert "halal" in copies  # HS-015 is still held, as it should be


async def test_the_privacy_report_says_how_purging_works_and_what_it_cannot_reach(
    config: Config,
) -> None:
    report = await privacy.report(config)
    for claim in (
        "under the referral's own data key",
        "the data key is deleted",
        "secure_delete on",
        "VACUUM FULL",
        "keep backups and WAL archives no longer than",
        "between today and 366 days ahead",
        "edited at purge to say the details were removed",
        "after 5 such links from one person, or\n  50 from everyone",
        "HMAC-SHA256 under a random key that exists only\n  in the running bot's memory",
        "A real invite link is\n  always looked up first and always works",
        "edited so\n  at once when the person is erased",
        "Why a session did not run, when a site lead types it",
        "at most 200 characters",
        "not in the audit log (it records only that a\n  reason was typed)",
    ):
        assert claim in report, claim


async def test_erasing_a_school_contact_edits_the_details_out_of_their_chat(
    bot: Rehearsal,
) -> None:
    """Mr Okafor opened HS-014's card, with the family's allergy, then leaves and asks to be
    erased. The card in his chat is edited at once: after the erasure nothing remembers the
    message, so no purge could find it later."""
    await referred(bot)
    okafor = bot.user(OKAFOR, "Mr Okafor")
    await okafor.send("/myreferrals")
    await okafor.tap("HS-014: received")
    assert NEEDS in okafor.last.text
    card = okafor.last.message_id

    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/people")
    await rachel.tap("Hillside Primary")  # his name in Telegram, as the test gives it
    await rachel.tap("🗑 Erase their data")
    await rachel.tap("Yes, erase")
    assert "Done: their data is erased." in rachel.last.text
    await bot.deliver()

    edited = [m for m in okafor.bot_messages if m.message_id == card]
    assert edited and REMOVED in edited[-1].text
    assert [m.text for m in okafor.bot_messages if NEEDS in m.text] == []
    async with bot.services.db.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM detail_messages")) == 0

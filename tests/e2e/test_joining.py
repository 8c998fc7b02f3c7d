"""Joining the programme, as people do it in Telegram: /start, the privacy notice, invites."""

from __future__ import annotations

import re

from sqlalchemy import text

from bot.harness import Rehearsal
from storage import audit, invites, people
from storage.models import Role
from tests.conftest import RACHEL
from tests.support import Clock

SAM, OKAFOR, PRIYA, STRANGER = 3001, 2001, 3002, 4001
LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


async def register(bot: Rehearsal, user_id: int, first_name: str) -> None:
    person = bot.user(user_id, first_name)
    await person.send("/start")
    await person.tap("✅ I agree")


async def invite_link(bot: Rehearsal, *taps: str, school: str | None = None) -> str:
    """Rachel makes an invite link through the buttons; returns the /start payload."""
    rachel = bot.user(RACHEL, "Rachel")
    await rachel.send("/invite")
    for label in taps:
        await rachel.tap(label)
    if school is not None:
        await rachel.send(school)
    match = LINK.search(rachel.last.text)
    assert match is not None, rachel.last.text
    assert match.group(1) == bot.sandbox.bot_username
    return match.group(2)


async def test_a_newcomer_reads_the_privacy_notice_and_registers(bot: Rehearsal) -> None:
    sam = bot.user(SAM, "Sam", last_name="Lee")
    await sam.send("/start")

    notice = sam.last
    assert "privacy notice" in notice.text
    assert "Nothing is stored unless you tap I agree" in notice.text
    assert notice.labels() == ["✅ I agree", "No thanks"]
    assert await people.profile(bot.services.db, SAM) is None

    await sam.tap("✅ I agree")
    assert "Thank you, you're registered, Sam Lee! Holiday Lunch Club roles: volunteer." in (
        sam.last.text
    )
    assert "/whoami - Your name and roles" in sam.last.text
    assert sam.last.buttons == []
    assert sam.callback_answers[-1].text is None
    assert ("whoami", "Your name and roles") in sam.commands
    assert "invite" not in dict(sam.commands)

    await sam.send("/whoami")
    assert "Roles: volunteer" in sam.last.text


async def test_saying_no_thanks_stores_nothing(bot: Rehearsal) -> None:
    stranger = bot.user(STRANGER, "Alex")
    await stranger.send("/start")
    await stranger.tap("No thanks")

    assert "nothing about you has been stored" in stranger.last.text
    assert await people.profile(bot.services.db, STRANGER) is None


async def test_a_repeated_accept_registers_once(bot: Rehearsal) -> None:
    sam = bot.user(SAM, "Sam")
    await sam.send("/start")
    notice = sam.last
    await sam.tap("✅ I agree", message=notice)
    # The same update again (a double tap, or Telegram re-delivering it after a restart).
    await sam.tap_data("pv:1:", message_id=notice.message_id)

    assert len(await audit.recent(bot.services.db, action="person.registered")) == 1
    assert "Welcome back, Sam!" in sam.last.text


async def test_a_school_contact_joins_by_invite_and_the_link_then_refuses_others(
    bot: Rehearsal, clock: Clock
) -> None:
    await register(bot, RACHEL, "Rachel")
    token = await invite_link(bot, "A school contact", "➕ A new school", school="Hillside Primary")
    rachel = bot.user(RACHEL, "Rachel")
    assert "a contact at Hillside Primary" in rachel.last.text
    assert "works for one person only and expires Sat 4 Jul 2026, 10:00" in rachel.last.text

    okafor = bot.user(OKAFOR, "Daniel", last_name="Okafor")
    await okafor.send(f"/start {token}")
    assert "invited to join as the school contact for Hillside Primary" in okafor.last.text
    await okafor.tap("✅ I agree")
    assert "roles: school contact (Hillside Primary)." in okafor.last.text
    profile = await people.profile(bot.services.db, OKAFOR)
    assert profile is not None and profile.roles == {Role.SCHOOL_CONTACT}

    sam = bot.user(SAM, "Sam")
    await sam.send(f"/start {token}")
    assert "already been used" in sam.last.text
    assert sam.last.buttons == []
    assert await people.profile(bot.services.db, SAM) is None

    # A second contact for the same school picks it from the list this time.
    second = await invite_link(bot, "A school contact", "Hillside Primary")
    clock.advance(hours=73)
    priya = bot.user(PRIYA, "Priya")
    await priya.send(f"/start {second}")
    assert "This invite link has expired" in priya.last.text


async def test_a_registered_volunteer_becomes_a_coordinator_by_invite(bot: Rehearsal) -> None:
    await register(bot, RACHEL, "Rachel")
    await register(bot, PRIYA, "Priya")
    token = await invite_link(bot, "A coordinator")

    priya = bot.user(PRIYA, "Priya")
    await priya.send(f"/start {token}")
    assert "You are now a coordinator" in priya.last.text
    assert "people" in dict(priya.commands)
    await priya.send(f"/start {token}")
    assert "You already joined with this invite" in priya.last.text


async def test_a_made_up_invite_is_refused_kindly(bot: Rehearsal) -> None:
    stranger = bot.user(STRANGER, "Alex")
    await stranger.send("/start " + "A" * 32)
    assert "This invite link isn't valid" in stranger.last.text
    assert await people.profile(bot.services.db, STRANGER) is None
    # Any other payload (a poster's link, say) is an ordinary /start.
    await stranger.send("/start stmarks_poster")
    assert "privacy notice" in stranger.last.text


async def test_guessing_invite_links_is_throttled_per_person_and_overall(
    bot: Rehearsal, clock: Clock
) -> None:
    """Made-up links: a few get the usual answer, then the guesser is told to wait. However
    many people guess, a real link still works: only links that match nothing are refused."""
    await register(bot, RACHEL, "Rachel")
    await register(bot, SAM, "Sam")
    token = await invite_link(bot, "A coordinator")
    guesser = bot.user(STRANGER, "Alex")
    for n in range(invites.FAILED_ATTEMPTS_PER_PERSON):
        await guesser.send(f"/start {n:032d}")
        assert "This invite link isn't valid" in guesser.last.text
    await guesser.send("/start " + "B" * 32)
    assert "Too many invite links" in guesser.last.text
    assert await people.profile(bot.services.db, STRANGER) is None
    # Registered people are throttled the same way, and the audit log stops growing.
    sam = bot.user(SAM, "Sam")
    for n in range(invites.FAILED_ATTEMPTS_PER_PERSON + 3):
        await sam.send(f"/start {n:032d}")
    assert "Too many invite links" in sam.last.text
    db = bot.services.db
    refused = await audit.recent(db, action="invite.refused", limit=100)
    throttled = await audit.recent(db, action="invite.throttled", limit=100)
    assert len(refused) == 2 * (invites.FAILED_ATTEMPTS_PER_PERSON - 1)
    assert len(throttled) == 2
    # Nobody who tried is stored by their Telegram id: the newcomer agreed to nothing.
    async with db.read() as session:
        tried = (await session.scalars(text("SELECT who FROM invite_attempts"))).all()
    assert len(tried) == 2 * invites.FAILED_ATTEMPTS_PER_PERSON
    assert all(len(who) == 64 and str(STRANGER) not in who for who in tried)

    # Many people guess at once: made-up links all wait...
    for n in range(invites.FAILED_ATTEMPTS_OVERALL):
        await bot.user(9000 + n, "Guesser").send(f"/start {n:032d}")
    priya = bot.user(PRIYA, "Priya")
    await priya.send("/start " + "C" * 32)
    assert "Too many invite links" in priya.last.text
    async with db.read() as session:
        counted = await session.scalar(text("SELECT count(*) FROM invite_attempts"))
    assert counted == invites.FAILED_ATTEMPTS_OVERALL
    # ...but a real invite still gets through, for anyone, the guesser included.
    await priya.send(f"/start {token}")
    assert "You have been invited to join as a coordinator" in priya.last.text
    await guesser.send(f"/start {token}")
    assert "You have been invited to join as a coordinator" in guesser.last.text
    await priya.tap("✅ I agree")
    profile = await people.profile(db, PRIYA)
    assert profile is not None and Role.COORDINATOR in profile.roles
    # Refused guesses while the throttle is closed are neither counted nor audited.
    audited = len(await audit.recent(db, limit=1000))
    await bot.user(9999, "Guesser").send("/start " + "D" * 32)
    assert "Too many invite links" in bot.user(9999, "Guesser").last.text
    async with db.read() as session:
        counted = await session.scalar(text("SELECT count(*) FROM invite_attempts"))
    assert counted == invites.FAILED_ATTEMPTS_OVERALL
    assert len(await audit.recent(db, limit=1000)) == audited
    # The window passes: made-up links get the usual answer again, and the attempts are forgotten.
    clock.advance(seconds=invites.ATTEMPT_WINDOW.total_seconds())
    await bot.user(PRIYA + 1, "Jo").send("/start " + "E" * 32)
    assert "This invite link isn't valid" in bot.user(PRIYA + 1, "Jo").last.text
    clock.advance(seconds=invites.ATTEMPT_WINDOW.total_seconds())
    await bot.deliver()
    async with db.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM invite_attempts")) == 0

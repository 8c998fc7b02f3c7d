"""Referrals against real SQLite and PostgreSQL: sealed at rest, decided once, purged on time."""

from __future__ import annotations

import asyncio
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text

from storage import audit, drafts, keys, locations, outbox, people, referrals, rota
from storage.crypto import Cipher, SealError, new_key
from storage.db import Database
from storage.errors import NotFound, NotYours, PermissionDenied
from storage.models import CheckStatus, DataKey, Referral, ReferralStatus, Role
from storage.referrals import Decision, ReferralForm
from tests.support import Clock, register_by_invite

RACHEL, OKAFOR, OTHER_SCHOOL, SAM = 1001, 2001, 2002, 3001
ALLERGY = "severe peanut allergy, carries an EpiPen"
CIPHER = Cipher([new_key()])
LONDON = ZoneInfo("Europe/London")


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
        tz=LONDON,
        now=clock(),
    )


async def _lunches(db: Database, clock: Clock, location_id: int, first: date, last: date) -> None:
    """Lunch at a location every weekday from `first` to `last`, 11:30-13:30."""
    plan = rota.SessionPlan(
        location_id=location_id,
        first_day=first,
        last_day=last,
        weekdays=frozenset({0, 1, 2, 3, 4}),
        start=time(11, 30),
        end=time(13, 30),
        jobs=(rota.JobSpec(job="server", places=2),),
    )
    await rota.create_sessions(db, actor_telegram_id=RACHEL, plan=plan, tz=LONDON, now=clock())


async def _programme(db: Database, clock: Clock) -> int:
    """Rachel, Mr Okafor at Hillside, a contact at Brook Lane, Sam; St Mark's (capacity 3),
    with lunch every weekday of the summer holiday (27 Jul-28 Aug)."""
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
    await _lunches(db, clock, location.location_id, date(2026, 7, 27), date(2026, 8, 28))
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
    due = await outbox.claim_due(db, now=clock(), limit=10, by="test")
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
            tz=LONDON,
            now=clock(),
        ),
        referrals.waitlist(
            db, telegram_id=RACHEL, referral_id=sent.referral_id, version=0, now=clock()
        ),
    )
    assert sorted([placed.decision, waitlisted.decision]) == [Decision.DONE, Decision.STALE]
    told = [
        n
        for n in await outbox.claim_due(db, now=clock(), limit=10, by="test")
        if n.kind == "referral_status"
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


async def test_a_new_key_rewraps_everything_and_then_the_old_one_can_go(
    db: Database, clock: Clock
) -> None:
    """Rotation re-wraps each referral's data key; details sealed before data keys (with the
    programme key itself) get a data key of their own on the way."""
    await _programme(db, clock)
    old, new = new_key(), new_key()
    sent = await referrals.submit(
        db, Cipher([old]), telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    legacy = await referrals.submit(
        db,
        Cipher([old]),
        telegram_id=OKAFOR,
        form=form(reference="OLD"),
        now=clock(),
        daily_limit=10,
    )
    async with db.transaction() as session:  # as a referral sealed by an earlier version was
        row = await session.get(Referral, legacy.referral_id)
        assert row is not None
        row.key_id, row.needs_sealed = None, Cipher([old]).seal("sesame")
        row.note_sealed = Cipher([old]).seal("a note")
    # Two half-filled forms: one sealed with its form's key, one from before data keys.
    form_sealer = await referrals.form_cipher(db, Cipher([old]), telegram_id=OKAFOR, now=clock())
    for who, sealed in ((OKAFOR, form_sealer.seal("mango")), (SAM, Cipher([old]).seal("egg"))):
        await drafts.save(
            db,
            telegram_id=who,
            flow=referrals.FORM_FLOW,
            awaiting="note",
            data={"needs": sealed},
            now=clock(),
        )
    rotated = Cipher([new, old])
    assert await referrals.reseal_all(db, rotated, now=clock()) == 2
    for who, needs in ((OKAFOR, "mango"), (SAM, "egg")):
        draft = await drafts.load(db, telegram_id=who, flow=referrals.FORM_FLOW)
        assert draft is not None
        sealer = await referrals.form_cipher(db, Cipher([new]), telegram_id=who, now=clock())
        assert sealer.open(draft.data["needs"]) == needs

    only_new = Cipher([new])
    for referral_id, needs in ((sent.referral_id, ALLERGY), (legacy.referral_id, "sesame")):
        seen = await referrals.detail(
            db, only_new, telegram_id=RACHEL, referral_id=referral_id, now=clock()
        )
        assert seen.needs == needs
    exported = (await referrals.export_csv(db, only_new, telegram_id=RACHEL, now=clock())).data
    assert ALLERGY.encode() in exported and b"sesame" in exported
    assert len(await audit.recent(db, action="referrals.exported")) == 1
    assert ReferralStatus.SUBMITTED.value.encode() in exported
    with pytest.raises(SealError):
        await referrals.detail(
            db, Cipher([old]), telegram_id=RACHEL, referral_id=sent.referral_id, now=clock()
        )


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


async def test_a_placement_names_real_sessions_and_leaves_out_days_without_lunch(
    db: Database, clock: Clock
) -> None:
    location_id = await _programme(db, clock)
    riverside = await locations.create(db, actor_telegram_id=RACHEL, name="Riverside", now=clock())
    # Riverside has lunch only in the first week: its sessions end on Thu 30 July.
    await _lunches(db, clock, riverside.location_id, date(2026, 7, 27), date(2026, 7, 30))
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    [option] = await referrals.options(
        db,
        telegram_id=RACHEL,
        referral_id=sent.referral_id,
        first_day=date(2026, 7, 28),
        last_day=date(2026, 8, 27),
        tz=LONDON,
        now=clock(),
        location_id=riverside.location_id,
    )
    assert [d.day for d in option.open_days] == [date(2026, 7, 28), date(2026, 7, 30)]
    assert len(option.days) == 10
    placed = await _place(
        db, clock, sent.referral_id, riverside.location_id, date(2026, 7, 28), date(2026, 8, 27)
    )
    assert placed.decision is Decision.DONE and placed.summary is not None
    assert placed.summary.placed_days == (date(2026, 7, 28), date(2026, 7, 30))
    assert (placed.summary.placed_from, placed.summary.placed_to) == (
        date(2026, 7, 28),
        date(2026, 7, 30),
    )
    assert len(placed.skipped_days) == 8
    # Dates with no lunch at all place nothing, and nobody is told.
    again = await _place(
        db,
        clock,
        sent.referral_id,
        riverside.location_id,
        date(2026, 8, 4),
        date(2026, 8, 27),
        version=1,
    )
    assert again.decision is Decision.NO_SESSIONS
    assert location_id != riverside.location_id


async def test_a_cancelled_session_takes_the_family_off_the_register_and_tells_the_school(
    db: Database, clock: Clock
) -> None:
    location_id = await _programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    await _place(db, clock, sent.referral_id, location_id, date(2026, 7, 28), date(2026, 7, 30))
    await outbox.claim_due(db, now=clock(), limit=10, by="test")  # the notices so far
    tuesday, thursday = [
        (
            await rota.sessions_on(
                db, actor_telegram_id=RACHEL, location_id=location_id, day=day, tz=LONDON
            )
        )[0].session
        for day in (date(2026, 7, 28), date(2026, 7, 30))
    ]
    before = await rota.who_is_told(db, actor_telegram_id=RACHEL, session_id=tuesday.session_id)
    assert before == rota.Told(volunteers=0, families=1, children=2)

    told = await rota.cancel_session(
        db, actor_telegram_id=RACHEL, session_id=tuesday.session_id, now=clock()
    )
    assert told == before
    register = await referrals.register(
        db, CIPHER, telegram_id=RACHEL, location_id=location_id, day=date(2026, 7, 28), now=clock()
    )
    assert register == []
    due = await outbox.claim_due(db, now=clock(), limit=10, by="test")
    assert [(n.kind, n.chat_id) for n in due] == [("placement_cancelled", OKAFOR)]
    assert "peanut" not in str(due[0].payload)
    [still] = await referrals.for_school(db, telegram_id=OKAFOR)
    assert (still.status, still.placed_days) == (ReferralStatus.PLACED, (date(2026, 7, 30),))

    moved, moved_told = await rota.reschedule(
        db,
        actor_telegram_id=RACHEL,
        session_id=thursday.session_id,
        start=time(12, 0),
        end=time(14, 0),
        tz=LONDON,
        now=clock(),
    )
    assert moved_told.families == 1
    assert [n.kind for n in await outbox.claim_due(db, now=clock(), limit=10, by="test")] == [
        "placement_moved"
    ]
    await rota.cancel_session(
        db, actor_telegram_id=RACHEL, session_id=moved.session_id, now=clock()
    )
    [waiting] = await referrals.for_school(db, telegram_id=OKAFOR)
    assert (waiting.status, waiting.location_id, waiting.placed_days) == (
        ReferralStatus.WAITLISTED,
        None,
        (),
    )


async def test_placing_while_the_session_is_cancelled_never_leaves_a_family_untold(
    db: Database, clock: Clock
) -> None:
    location_id = await _programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    [tuesday] = await rota.sessions_on(
        db, actor_telegram_id=RACHEL, location_id=location_id, day=date(2026, 7, 28), tz=LONDON
    )
    await outbox.claim_due(db, now=clock(), limit=10, by="test")
    placed, _ = await asyncio.gather(
        _place(db, clock, sent.referral_id, location_id, date(2026, 7, 28), date(2026, 7, 30)),
        rota.cancel_session(
            db, actor_telegram_id=RACHEL, session_id=tuesday.session.session_id, now=clock()
        ),
    )
    assert placed.decision is Decision.DONE
    [now_placed] = await referrals.for_school(db, telegram_id=OKAFOR)
    kinds = {n.kind for n in await outbox.claim_due(db, now=clock(), limit=10, by="test")}
    # Either the placement came first and the school hears of the cancelled Tuesday, or the
    # cancel came first and the family was placed on the Thursday alone.
    assert now_placed.placed_days == (date(2026, 7, 30),)
    assert ("placement_cancelled" in kinds) or (
        placed.summary is not None and placed.summary.placed_days == (date(2026, 7, 30),)
    )


async def test_a_forms_key_becomes_the_referrals_and_a_forgotten_forms_key_is_destroyed(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    sealer = await referrals.form_cipher(db, CIPHER, telegram_id=OKAFOR, now=clock())
    again = await referrals.form_cipher(db, CIPHER, telegram_id=OKAFOR, now=clock())
    token = sealer.seal(ALLERGY)
    assert again.open(token) == ALLERGY  # one key per form, whichever step asks
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    async with db.read() as session:
        row = await session.get(Referral, sent.referral_id)
        assert row is not None and row.key_id is not None
        key = await session.get(DataKey, row.key_id)
        assert key is not None and key.form_of is None
        assert (await keys.of_referral(session, CIPHER, row)).open(token) == ALLERGY

    # Another school's contact starts a form and walks away from it (no draft is left).
    forgotten = await referrals.form_cipher(db, CIPHER, telegram_id=OTHER_SCHOOL, now=clock())
    lost = forgotten.seal("kiwi")
    clock.advance(hours=2)
    await referrals.purge_expired(db, now=clock(), retention=timedelta(days=60))
    async with db.read() as session:
        held = (await session.execute(text("SELECT form_of FROM data_keys"))).scalars().all()
    assert held == [None]  # only the sent referral's key is left
    fresh = await referrals.form_cipher(db, CIPHER, telegram_id=OTHER_SCHOOL, now=clock())
    with pytest.raises(SealError):  # a new form has a new key; the forgotten one is gone
        fresh.open(lost)


async def test_a_date_far_ahead_cannot_keep_the_details_for_ever(
    db: Database, clock: Clock
) -> None:
    """The form refuses such dates (and so does storage, for a referral's own); one stored
    anyway (before the window, or by a path that forgot it) ends a year after the decision."""
    location_id = await _programme(db, clock)
    with pytest.raises(ValueError, match="incomplete"):
        await referrals.submit(
            db,
            CIPHER,
            telegram_id=OKAFOR,
            form=form(last_day=date(9999, 1, 5)),
            now=clock(),
            daily_limit=10,
        )
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    placed = await _place(
        db, clock, sent.referral_id, location_id, date(2026, 7, 28), date(9999, 1, 5)
    )
    assert placed.decision is Decision.DONE
    # A placement names real lunches, so its last day is the last lunch that runs, not 9999...
    assert placed.summary is not None and placed.summary.placed_to < date(2027, 1, 1)
    # ...but one stored with such a date all the same (before the window existed) still ends.
    async with db.transaction() as session:
        await session.execute(
            text("UPDATE referrals SET placed_to = :far WHERE id = :id"),
            {"far": date(9999, 1, 5), "id": sent.referral_id},
        )
    retention = timedelta(days=60)
    decided = clock.now
    clock.now = decided + timedelta(days=366 + 60)
    assert await referrals.purge_expired(db, now=clock(), retention=retention) == 0
    clock.advance(days=1)
    assert await referrals.purge_expired(db, now=clock(), retention=retention) == 1
    with pytest.raises(ValueError, match="expiry"):
        await people.record_check(
            db,
            actor_telegram_id=RACHEL,
            person_id=1,
            status=CheckStatus.CLEARED,
            expires_on=date(9999, 12, 31),
            now=clock(),
        )


async def test_dates_outside_the_planning_window_are_never_looked_at(
    db: Database, clock: Clock
) -> None:
    """A forged or old button can carry any dates (0001 to 9999): only the days of the planning
    window (storage.dates.PLANNING) are looked at, so no millions of days are built and the
    calendar's end is never passed; the family is placed only on real lunches."""
    location_id = await _programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    far = (date(1, 1, 1), date(9999, 12, 31))
    [option] = await referrals.options(
        db,
        telegram_id=RACHEL,
        referral_id=sent.referral_id,
        first_day=far[0],
        last_day=far[1],
        tz=LONDON,
        now=clock(),
        location_id=location_id,
    )
    latest = clock().date() + timedelta(days=367)
    assert all(clock().date() <= d.day <= latest for d in option.days)
    assert option.open_days and all(d.session_id is not None for d in option.open_days)
    placed = await _place(db, clock, sent.referral_id, location_id, *far)
    assert placed.decision is Decision.DONE and placed.summary is not None
    assert placed.summary.placed_days == tuple(d.day for d in option.open_days)
    assert placed.summary.placed_to is not None and placed.summary.placed_to <= date(2026, 8, 28)


async def _statements_for_options(db: Database, clock: Clock, referral_id: int) -> int:
    """How many SQL statements the placing screen's options() runs."""
    run: list[str] = []

    def count(*args: object) -> None:
        run.append("statement")

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await referrals.options(
            db,
            telegram_id=RACHEL,
            referral_id=referral_id,
            first_day=date(2026, 7, 28),
            last_day=date(2026, 8, 27),
            tz=LONDON,
            now=clock(),
        )
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    return len(run)


async def test_the_placing_screen_asks_the_same_few_queries_however_many_locations(
    db: Database, clock: Clock
) -> None:
    """Every page of the placing screen looks up all open locations: with 500 of them, two
    queries each were a thousand. The days at every location come from the same two queries."""
    location_id = await _programme(db, clock)
    sent = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(), now=clock(), daily_limit=10
    )
    await _place(db, clock, sent.referral_id, location_id, date(2026, 7, 28), date(2026, 7, 30))
    other = await referrals.submit(
        db, CIPHER, telegram_id=OKAFOR, form=form(reference="HS-015"), now=clock(), daily_limit=10
    )
    few = await _statements_for_options(db, clock, other.referral_id)
    for n in range(12):
        hall = await locations.create(
            db, actor_telegram_id=RACHEL, name=f"Hall {n:02}", now=clock()
        )
        await _lunches(db, clock, hall.location_id, date(2026, 7, 27), date(2026, 7, 31))
    assert await _statements_for_options(db, clock, other.referral_id) == few

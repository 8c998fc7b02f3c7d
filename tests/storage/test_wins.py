"""Wins against real SQLite and PostgreSQL: shared once, decided once (by the first of two
coordinators, on the words they saw), announced in each celebration chat once, and never
credited to someone who was erased."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import audit, drafts, locations, people, wins
from storage.db import Database
from storage.errors import NotFound, OutOfScope, PermissionDenied
from storage.models import WIN_TEXT_MAX, Notice, Win, WinStatus
from storage.wins import Cancelled, Outcome, Shared, TextProblem
from tests.support import Clock, promote_to_coordinator

RACHEL, BEN, PRIYA, SAM = 1001, 1002, 3001, 3002
GROUP, OTHER_GROUP = -100_111, -100_222
CURRY = "First time all 12 kids tried the vegetable curry!"


async def _programme(db: Database, clock: Clock) -> dict[int, int]:
    """Rachel and Ben run the programme, Priya leads St Mark's, Sam volunteers. Person ids."""
    ids = {}
    for telegram_id, name in ((RACHEL, "Rachel"), (BEN, "Ben"), (PRIYA, "Priya"), (SAM, "Sam")):
        made = await people.register(
            db,
            telegram_id=telegram_id,
            name=name,
            now=clock(),
            coordinator_ids=frozenset({RACHEL, BEN}),
        )
        ids[telegram_id] = made.profile.person_id
    await promote_to_coordinator(db, clock(), PRIYA, by=RACHEL)
    st_marks = await locations.create(db, actor_telegram_id=RACHEL, name="St Mark's", now=clock())
    await locations.set_scope(
        db,
        actor_telegram_id=RACHEL,
        person_id=ids[PRIYA],
        location_ids=frozenset({st_marks.location_id}),
        now=clock(),
    )
    return ids


async def _share(
    db: Database,
    clock: Clock,
    telegram_id: int,
    text: str = CURRY,
    *,
    photo: str | None = None,
    anonymous: bool = False,
) -> wins.WinView:
    nonce = await wins.keep_preview(
        db, telegram_id=telegram_id, text=text, photo_file_id=photo, now=clock()
    )
    result = await wins.submit(
        db, telegram_id=telegram_id, nonce=nonce, anonymous=anonymous, now=clock()
    )
    assert result.status is Shared.SHARED
    assert result.win is not None
    return result.win


async def _notices(db: Database, kind: str) -> list[Notice]:
    async with db.read() as session:
        query = select(Notice).where(Notice.kind == kind).order_by(Notice.id)
        return list((await session.scalars(query)).all())


async def _approve(
    db: Database, clock: Clock, win: wins.WinView, *, by: int = RACHEL, version: int = 0
) -> wins.Decision:
    return await wins.approve(
        db,
        telegram_id=by,
        win_id=win.win_id,
        version=version,
        chats=(GROUP, OTHER_GROUP, GROUP),
        now=clock(),
    )


async def test_sharing_stores_the_win_and_sends_each_programme_coordinator_a_card(
    db: Database, clock: Clock
) -> None:
    ids = await _programme(db, clock)
    shared = await _share(db, clock, PRIYA, photo="AgACAgIAAxkBAAI-photo")
    assert shared.status is WinStatus.PENDING
    assert shared.author_name == "Priya"
    assert shared.credit == "Priya"
    assert shared.photo_file_id == "AgACAgIAAxkBAAI-photo"
    cards = await _notices(db, "win_review")
    # Coordinators of the whole programme decide wins; a site lead (Priya) does not.
    assert {n.person_id for n in cards} == {ids[RACHEL], ids[BEN]}
    assert all(n.payload == {"win_id": shared.win_id} for n in cards)
    # The words left the draft: only the answer to a second tap is kept.
    kept = await drafts.load(db, telegram_id=PRIYA, flow=wins.DRAFT_FLOW)
    assert kept is not None
    assert kept.awaiting is None
    assert "text" not in kept.data
    (entry,) = await audit.recent(db, action="win.submitted")
    assert entry.details == {"anonymous": False, "photo": True}
    assert await wins.pending_count(db) == 1


async def test_a_preview_tapped_many_times_at_once_is_shared_once(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    nonce = await wins.keep_preview(
        db, telegram_id=SAM, text=CURRY, photo_file_id=None, now=clock()
    )
    results = await asyncio.gather(
        *(
            wins.submit(db, telegram_id=SAM, nonce=nonce, anonymous=False, now=clock())
            for _ in range(6)
        )
    )
    assert sorted(r.status for r in results) == [Shared.ALREADY] * 5 + [Shared.SHARED]
    assert {r.win.win_id for r in results if r.win} == {1}
    async with db.read() as session:
        assert len((await session.scalars(select(Win))).all()) == 1
    assert len(await _notices(db, "win_review")) == 2
    assert len(await audit.recent(db, action="win.submitted")) == 1


async def test_a_replaced_or_cancelled_preview_shares_nothing(db: Database, clock: Clock) -> None:
    await _programme(db, clock)
    old = await wins.keep_preview(db, telegram_id=SAM, text="one", photo_file_id=None, now=clock())
    new = await wins.keep_preview(db, telegram_id=SAM, text="two", photo_file_id=None, now=clock())
    gone = await wins.submit(db, telegram_id=SAM, nonce=old, anonymous=False, now=clock())
    assert gone.status is Shared.GONE
    assert await wins.cancel_preview(db, telegram_id=SAM, nonce=old) is Cancelled.GONE
    assert await wins.cancel_preview(db, telegram_id=SAM, nonce=new) is Cancelled.CANCELLED
    after = await wins.submit(db, telegram_id=SAM, nonce=new, anonymous=False, now=clock())
    assert after.status is Shared.GONE
    assert await wins.pending_count(db) == 0

    third = await wins.keep_preview(db, telegram_id=SAM, text="3", photo_file_id=None, now=clock())
    await wins.submit(db, telegram_id=SAM, nonce=third, anonymous=True, now=clock())
    assert await wins.cancel_preview(db, telegram_id=SAM, nonce=third) is Cancelled.ALREADY_SHARED
    assert await wins.pending_count(db) == 1


async def test_approval_announces_in_each_chat_once_and_thanks_the_author(
    db: Database, clock: Clock
) -> None:
    ids = await _programme(db, clock)
    shared = await _share(db, clock, PRIYA)
    decision = await _approve(db, clock, shared)
    assert decision.outcome is Outcome.DONE
    assert decision.chats == 2
    assert decision.win.status is WinStatus.APPROVED
    assert decision.win.decided_by_name == "Rachel"
    announced = await _notices(db, "win_announce")
    assert [(n.chat_id, n.person_id) for n in announced] == [(GROUP, None), (OTHER_GROUP, None)]
    (thanks,) = await _notices(db, "win_thanks")
    assert thanks.person_id == ids[PRIYA]
    assert thanks.payload == {"win_id": shared.win_id, "chats": 2, "without_photo": False}
    assert not decision.win.edited

    # Again, or a rejection after it: nothing changes, nothing is queued twice.
    again = await _approve(db, clock, shared)
    assert again.outcome is Outcome.DECIDED
    late = await wins.reject(
        db, telegram_id=BEN, win_id=shared.win_id, version=0, note="no", now=clock()
    )
    assert late.outcome is Outcome.DECIDED
    assert late.win.status is WinStatus.APPROVED
    assert late.win.decided_by_name == "Rachel"
    assert len(await _notices(db, "win_announce")) == 2
    assert len(await _notices(db, "win_thanks")) == 1
    assert await _notices(db, "win_rejected") == []
    assert len(await audit.recent(db, action="win.approved")) == 1


async def test_of_two_coordinators_deciding_at_once_only_one_counts(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    for _ in range(3):
        shared = await _share(db, clock, SAM)
        approval, rejection = await asyncio.gather(
            _approve(db, clock, shared),
            wins.reject(
                db, telegram_id=BEN, win_id=shared.win_id, version=0, note=None, now=clock()
            ),
        )
        outcomes = sorted([approval.outcome, rejection.outcome])
        assert outcomes == [Outcome.DECIDED, Outcome.DONE]
        final = await wins.view(db, shared.win_id)
        assert final is not None
        approved = approval.outcome is Outcome.DONE
        assert final.status is (WinStatus.APPROVED if approved else WinStatus.REJECTED)
    announced = len(await _notices(db, "win_announce"))
    thanked = len(await _notices(db, "win_thanks"))
    rejected = len(await _notices(db, "win_rejected"))
    assert announced == 2 * thanked
    assert thanked + rejected == 3


async def test_an_edit_makes_older_cards_stale(db: Database, clock: Clock) -> None:
    await _programme(db, clock)
    shared = await _share(db, clock, PRIYA, "we fed 40 kids tday")
    edited = await wins.edit_text(
        db,
        telegram_id=BEN,
        win_id=shared.win_id,
        version=0,
        text="We fed 40 children today!",
        now=clock(),
    )
    assert edited.outcome is Outcome.DONE
    assert edited.win.version == 1
    assert edited.win.text == "We fed 40 children today!"
    assert edited.win.edited
    stale = await _approve(db, clock, shared, version=0)
    assert stale.outcome is Outcome.STALE
    assert stale.win.status is WinStatus.PENDING
    assert stale.win.text == "We fed 40 children today!"
    twice = await wins.edit_text(
        db, telegram_id=RACHEL, win_id=shared.win_id, version=0, text="other", now=clock()
    )
    assert twice.outcome is Outcome.STALE
    approved = await _approve(db, clock, shared, version=1)
    assert approved.outcome is Outcome.DONE
    assert approved.win.edited  # and so the author's thanks says so
    late = await wins.edit_text(
        db, telegram_id=RACHEL, win_id=shared.win_id, version=2, text="other", now=clock()
    )
    assert late.outcome is Outcome.DECIDED
    assert len(await audit.recent(db, action="win.edited")) == 1
    with pytest.raises(ValueError, match="too_long"):
        await wins.edit_text(
            db,
            telegram_id=RACHEL,
            win_id=shared.win_id,
            version=2,
            text="x" * (WIN_TEXT_MAX + 1),
            now=clock(),
        )


async def test_a_win_approved_without_its_photo_forgets_the_photo(
    db: Database, clock: Clock
) -> None:
    ids = await _programme(db, clock)
    shared = await _share(db, clock, PRIYA, photo="AgAC-a-child-s-face")
    stale = await wins.approve(
        db,
        telegram_id=RACHEL,
        win_id=shared.win_id,
        version=1,
        chats=(GROUP,),
        now=clock(),
        without_photo=True,
    )
    assert stale.outcome is Outcome.STALE
    assert stale.win.photo_file_id == "AgAC-a-child-s-face"  # refused: nothing changed
    decision = await wins.approve(
        db,
        telegram_id=RACHEL,
        win_id=shared.win_id,
        version=0,
        chats=(GROUP,),
        now=clock(),
        without_photo=True,
    )
    assert decision.outcome is Outcome.DONE
    assert decision.without_photo
    assert decision.win.status is WinStatus.APPROVED
    assert decision.win.photo_file_id is None
    assert not decision.win.edited
    (thanks,) = await _notices(db, "win_thanks")
    assert thanks.person_id == ids[PRIYA]
    assert thanks.payload == {"win_id": shared.win_id, "chats": 1, "without_photo": True}
    (entry,) = await audit.recent(db, action="win.approved")
    assert entry.details == {"chats": 1, "without_photo": True}
    # The digest has no photo to show either.
    (digest,) = await wins.approved_between(
        db, start=clock() - timedelta(days=1), end=clock() + timedelta(days=1)
    )
    assert not digest.has_photo
    # A win without a photo approved "without the photo" is simply approved.
    words = await _share(db, clock, SAM)
    plain = await wins.approve(
        db,
        telegram_id=BEN,
        win_id=words.win_id,
        version=0,
        chats=(),
        now=clock(),
        without_photo=True,
    )
    assert plain.outcome is Outcome.DONE
    assert not plain.without_photo
    assert len(await audit.recent(db, action="win.approved")) == 2


async def test_only_coordinators_of_the_whole_programme_decide(db: Database, clock: Clock) -> None:
    await _programme(db, clock)
    shared = await _share(db, clock, SAM)
    with pytest.raises(PermissionDenied):
        await _approve(db, clock, shared, by=SAM)
    with pytest.raises(OutOfScope):
        await _approve(db, clock, shared, by=PRIYA)
    with pytest.raises(OutOfScope):
        await wins.reject(
            db, telegram_id=PRIYA, win_id=shared.win_id, version=0, note=None, now=clock()
        )
    with pytest.raises(PermissionDenied):
        await wins.edit_text(
            db, telegram_id=SAM, win_id=shared.win_id, version=0, text="mine", now=clock()
        )
    with pytest.raises(PermissionDenied):
        await wins.pending(db, telegram_id=SAM, offset=0, limit=10)
    with pytest.raises(OutOfScope):
        await wins.card(db, telegram_id=PRIYA, win_id=shared.win_id)
    with pytest.raises(NotFound):
        await wins.approve(db, telegram_id=RACHEL, win_id=999, version=0, chats=(), now=clock())
    assert await wins.pending_count(db) == 1
    assert await _notices(db, "win_announce") == []


async def test_a_rejection_tells_the_author_with_the_note(db: Database, clock: Clock) -> None:
    ids = await _programme(db, clock)
    shared = await _share(db, clock, SAM)
    decision = await wins.reject(
        db,
        telegram_id=RACHEL,
        win_id=shared.win_id,
        version=0,
        note="We can't show faces",
        now=clock(),
    )
    assert decision.outcome is Outcome.DONE
    assert decision.win.status is WinStatus.REJECTED
    assert decision.win.reject_note == "We can't show faces"
    (told,) = await _notices(db, "win_rejected")
    assert told.person_id == ids[SAM]
    (entry,) = await audit.recent(db, action="win.rejected")
    assert entry.details == {"note": True}
    assert await _notices(db, "win_announce") == []


async def test_an_erased_author_is_never_named_and_their_unannounced_wins_go(
    db: Database, clock: Clock
) -> None:
    ids = await _programme(db, clock)
    first = await _share(db, clock, SAM)
    second = await _share(db, clock, SAM)
    await _approve(db, clock, first)
    erased = await people.erase(
        db,
        actor_telegram_id=RACHEL,
        person_id=ids[SAM],
        now=clock(),
        offer_window=timedelta(hours=2),
    )
    assert erased is people.Erasure.ERASED
    shown = await wins.view(db, first.win_id)
    assert shown is not None
    assert shown.author_name is None
    assert shown.credit is None
    # The win not yet announced went with them; the announced one stays, credited to nobody.
    assert await wins.view(db, second.win_id) is None
    with pytest.raises(NotFound):
        await _approve(db, clock, second)
    assert len(await _notices(db, "win_thanks")) == 1  # only the one queued before erasure
    digest = await wins.approved_between(
        db, start=clock() - timedelta(days=1), end=clock() + timedelta(days=1)
    )
    assert [(w.win_id, w.credit) for w in digest] == [(first.win_id, None)]


async def test_approved_between_lists_the_weeks_wins_in_order_of_approval(
    db: Database, clock: Clock
) -> None:
    await _programme(db, clock)
    start = clock()
    early = await _share(db, clock, PRIYA, "early")
    late = await _share(db, clock, SAM, "late", anonymous=True, photo="AgAC-photo")
    waiting = await _share(db, clock, SAM, "waiting")
    clock.advance(hours=1)
    await _approve(db, clock, late)
    clock.advance(hours=1)
    await _approve(db, clock, early)
    clock.advance(hours=1)
    rejected = await _share(db, clock, SAM, "not this one")
    await wins.reject(
        db, telegram_id=RACHEL, win_id=rejected.win_id, version=0, note=None, now=clock()
    )
    digest = await wins.approved_between(db, start=start, end=clock())
    assert [(w.text, w.credit, w.has_photo) for w in digest] == [
        ("late", None, True),
        ("early", "Priya", False),
    ]
    assert digest[0].approved_at == start + timedelta(hours=1)
    # The end is not included; the start is.
    only_first = await wins.approved_between(
        db, start=start + timedelta(hours=1), end=start + timedelta(hours=2)
    )
    assert [w.text for w in only_first] == ["late"]
    assert await wins.pending_count(db) == 1
    listed, total = await wins.pending(db, telegram_id=RACHEL, offset=0, limit=10)
    assert (total, [w.win_id for w in listed]) == (1, [waiting.win_id])


def test_words_are_tidied_and_limited() -> None:
    assert wins.clean_text("  Lovely   lunch \n\n\n\n today\u0007 ") == "Lovely lunch\n\ntoday"
    assert wins.clean_text("👨\u200d👩\u200d👧 fed") == "👨\u200d👩\u200d👧 fed"
    assert wins.clean_text(" \n\t ") is TextProblem.EMPTY
    assert wins.clean_text("x" * WIN_TEXT_MAX) == "x" * WIN_TEXT_MAX
    assert wins.clean_text("x" * (WIN_TEXT_MAX + 1)) is TextProblem.TOO_LONG
    assert wins.excerpt(CURRY, 40) == "First time all 12 kids tried the…"
    assert wins.excerpt("short", 40) == "short"

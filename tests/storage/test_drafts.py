"""Half-filled forms live in the database, so a restart continues them."""

from __future__ import annotations

from storage import drafts
from storage.db import Database
from tests.support import Clock


async def test_a_draft_survives_a_new_connection_and_the_newest_waiting_one_wins(
    db: Database, database_url: str, clock: Clock
) -> None:
    await drafts.save(db, telegram_id=7, flow="rename", awaiting="name", data={}, now=clock())
    clock.advance(seconds=5)
    await drafts.save(
        db,
        telegram_id=7,
        flow="invite_school",
        awaiting="school_name",
        data={"step": 2},
        now=clock(),
    )
    await drafts.save(
        db, telegram_id=7, flow="join", awaiting=None, data={"invite": "h"}, now=clock()
    )

    restarted = Database(database_url)
    try:
        waiting = await drafts.waiting_for_text(restarted, telegram_id=7)
        assert waiting is not None
        assert (waiting.flow, waiting.awaiting, waiting.data) == (
            "invite_school",
            "school_name",
            {"step": 2},
        )
        join = await drafts.load(restarted, telegram_id=7, flow="join")
        assert join is not None and join.data == {"invite": "h"}
        assert await drafts.discard(restarted, telegram_id=7, flow="invite_school")
        assert not await drafts.discard(restarted, telegram_id=7, flow="invite_school")
        still = await drafts.waiting_for_text(restarted, telegram_id=7)
        assert still is not None and still.flow == "rename"
        assert await drafts.waiting_for_text(restarted, telegram_id=8) is None
    finally:
        await restarted.dispose()


async def test_closing_every_form_leaves_finished_ones_and_other_people_alone(
    db: Database, clock: Clock
) -> None:
    await drafts.save(db, telegram_id=7, flow="plan", awaiting=None, data={"a": 1}, now=clock())
    clock.advance(seconds=5)
    await drafts.save(db, telegram_id=7, flow="rename", awaiting="name", data={}, now=clock())
    await drafts.save(
        db,
        telegram_id=7,
        flow="referral",
        awaiting="x",
        data={"sent": 1},
        now=clock(),
        finished=True,
    )
    await drafts.save(db, telegram_id=8, flow="plan", awaiting=None, data={}, now=clock())

    assert await drafts.close_all(db, telegram_id=7) == ["rename", "plan"]
    assert await drafts.close_all(db, telegram_id=7) == []
    finished = await drafts.load(db, telegram_id=7, flow="referral")
    assert finished is not None and finished.finished and finished.awaiting is None
    assert await drafts.load(db, telegram_id=8, flow="plan") is not None

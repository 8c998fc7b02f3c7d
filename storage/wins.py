"""Wins: anyone registered shares something good that happened; a coordinator of the whole
programme approves it (perhaps after editing its words) or rejects it with a note; an approved
win is announced in the celebration chats, credited by name or anonymously as its author chose,
with its photo or, if the coordinator chose so, without it (the photo is then forgotten).

The author's win waits in a draft (flow DRAFT_FLOW) until they choose how to share it. Sharing
consumes that draft in the same transaction that stores the win and queues the coordinators'
cards, so a double tap or a repeated update shares it once. Every decision names the version of
the card it was made on (a conditional UPDATE), so of two coordinators only the first counts,
and a decision on words that were edited since is refused. Texts are stored as typed (plain),
and escaped when shown. Audit rows record who did what, never the words.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, drafts, outbox
from storage.db import Database, rowcount
from storage.errors import NotFound
from storage.models import FILE_ID_MAX, WIN_TEXT_MAX, Draft, Person, Win, WinStatus
from storage.roles import all_coordinators, registered, require_programme

DRAFT_FLOW = "win"  # the author's win before it is shared
NOTE_MAX = 500  # a coordinator's note to the author when a win is not announced
EXCERPT = 40
# A preview's buttons carry its nonce: a positive number that fits the callback codec's ints.
MAX_NONCE = 2**31 - 1

# Kept: line breaks and tabs. Dropped: other control and invisible format characters, except
# those that are part of how some names and emoji are written (ZWNJ, ZWJ, variation selector).
_KEEP = frozenset("\n\t\u200c\u200d\ufe0f")
_BLANK_LINES = re.compile(r"\n{3,}")


class TextProblem(enum.Enum):
    EMPTY = "empty"
    TOO_LONG = "too_long"


class Shared(enum.StrEnum):
    SHARED = "shared"
    ALREADY = "already"  # this preview was shared before (a double tap, a repeated update)
    GONE = "gone"  # no such preview: cancelled, replaced by a newer one, or expired


class Cancelled(enum.StrEnum):
    CANCELLED = "cancelled"
    ALREADY_SHARED = "already_shared"  # too late: a coordinator has it already
    GONE = "gone"  # not this preview (or none at all)


class Outcome(enum.StrEnum):
    DONE = "done"
    STALE = "stale"  # the win was edited since the card was shown: here it is now
    DECIDED = "decided"  # already approved or rejected (see the win's decided_by_name)


@dataclass(frozen=True, kw_only=True)
class WinView:
    win_id: int
    text: str
    photo_file_id: str | None
    anonymous: bool
    status: WinStatus
    version: int
    created_at: datetime
    author_id: int | None
    # None when the author is gone or was erased: no name is ever shown for them.
    author_name: str | None
    decided_at: datetime | None
    decided_by_id: int | None
    decided_by_name: str | None
    reject_note: str | None

    @property
    def credit(self) -> str | None:
        """The name an announcement shows: None when anonymous or the author was erased."""
        return None if self.anonymous else self.author_name

    @property
    def edited(self) -> bool:
        """Whether a coordinator changed the words. Each edit bumps the version once, and so
        does the decision, which is the only other thing that bumps it."""
        return self.version > (0 if self.status is WinStatus.PENDING else 1)


@dataclass(frozen=True, kw_only=True)
class SubmitResult:
    status: Shared
    win: WinView | None = None


@dataclass(frozen=True, kw_only=True)
class Decision:
    outcome: Outcome
    win: WinView
    chats: int = 0  # the celebration chats an approval was queued for
    without_photo: bool = False  # approved as words only: its photo was forgotten


@dataclass(frozen=True, kw_only=True)
class ApprovedWin:
    """A win for the weekly digest."""

    win_id: int
    text: str
    credit: str | None  # None when anonymous or the author was erased
    has_photo: bool
    approved_at: datetime


def clean_text(text: str, limit: int = WIN_TEXT_MAX) -> str | TextProblem:
    """Words as typed, tidied: invisible characters gone, line breaks kept (at most one blank
    line in a row), spaces trimmed; or what is wrong with them."""
    kept = "".join(ch if ch.isprintable() or ch in _KEEP else " " for ch in text)
    lines = [" ".join(line.split()) for line in kept.replace("\t", " ").split("\n")]
    cleaned = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip().strip("".join(_KEEP))
    if not cleaned:
        return TextProblem.EMPTY
    if len(cleaned) > limit:
        return TextProblem.TOO_LONG
    return cleaned


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a win's words, on one line, for a button or a thank-you."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    # At a space, if there is one not too far back: whole words read better.
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


# --- the author's side ---------------------------------------------------------------------


async def keep_preview(
    db: Database, *, telegram_id: int, text: str, photo_file_id: str | None, now: datetime
) -> int:
    """Keep the author's win, ready to share, replacing any earlier one; returns the nonce that
    its preview's buttons carry (a tap on an older preview then shares nothing)."""
    cleaned = _valid(text, WIN_TEXT_MAX)
    if photo_file_id is not None and not 0 < len(photo_file_id) <= FILE_ID_MAX:
        raise ValueError("photo file id of an unexpected length")
    nonce = secrets.randbelow(MAX_NONCE) + 1
    await drafts.save(
        db,
        telegram_id=telegram_id,
        flow=DRAFT_FLOW,
        awaiting=None,
        data={"text": cleaned, "photo": photo_file_id, "n": nonce},
        now=now,
    )
    return nonce


async def submit(
    db: Database, *, telegram_id: int, nonce: int, anonymous: bool, now: datetime
) -> SubmitResult:
    """Share the previewed win: stored as pending, and every coordinator of the whole programme
    is sent a card to decide it. The preview is consumed in the same transaction, so it is
    shared once however often it is tapped."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        draft = await _draft(session, telegram_id)
        if draft is None or draft.data.get("n") != nonce:
            return SubmitResult(status=Shared.GONE)
        if "sent" in draft.data:
            return await _already(session, draft)
        text = clean_text(str(draft.data.get("text", "")))
        photo = draft.data.get("photo")
        if isinstance(text, TextProblem) or not (photo is None or isinstance(photo, str)):
            return SubmitResult(status=Shared.GONE)
        consumed = await session.execute(delete(Draft).where(Draft.id == draft.id))
        if rowcount(consumed) != 1:
            # Another tap consumed it a moment ago (on PostgreSQL both may have read it).
            again = await _draft(session, telegram_id)
            if again is not None and again.data.get("n") == nonce and "sent" in again.data:
                return await _already(session, again)
            return SubmitResult(status=Shared.GONE)
        win = Win(
            author_id=person.id,
            text=text,
            photo_file_id=photo,
            anonymous=anonymous,
            status=WinStatus.PENDING,
            version=0,
            created_at=now,
        )
        session.add(win)
        await session.flush()
        # What a second tap finds: the answer to repeat, and no words kept twice.
        session.add(
            Draft(
                telegram_id=telegram_id,
                flow=DRAFT_FLOW,
                awaiting=None,
                data={"sent": win.id, "n": nonce, drafts.FINISHED: True},
                updated_at=now,
            )
        )
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action="win.submitted",
            subject=("win", win.id),
            anonymous=anonymous,
            photo=photo is not None,
        )
        for lead in await all_coordinators(session, programme_only=True):
            await outbox.queue(
                session,
                person=lead,
                kind="win_review",
                payload={"win_id": win.id},
                dedupe_key=f"win_review:{win.id}:{lead.id}",
                due_at=now,
                now=now,
            )
        return SubmitResult(status=Shared.SHARED, win=await _view(session, win))


async def cancel_preview(db: Database, *, telegram_id: int, nonce: int) -> Cancelled:
    """Forget the previewed win, unless it was shared already (or is not this preview)."""
    async with db.transaction() as session:
        draft = await _draft(session, telegram_id)
        if draft is None or draft.data.get("n") != nonce:
            return Cancelled.GONE
        if "sent" in draft.data:
            return Cancelled.ALREADY_SHARED
        await session.execute(delete(Draft).where(Draft.id == draft.id))
        return Cancelled.CANCELLED


# --- the coordinators' side ------------------------------------------------------------------


async def view(db: Database, win_id: int) -> WinView | None:
    """A win as it is now, for a notice about it."""
    async with db.read() as session:
        win = await session.get(Win, win_id)
        return await _view(session, win) if win else None


async def card(db: Database, *, telegram_id: int, win_id: int) -> WinView:
    """A win for a coordinator of the whole programme to decide."""
    async with db.read() as session:
        await require_programme(session, telegram_id)
        win = await session.get(Win, win_id)
        if win is None:
            raise NotFound("no such win")
        return await _view(session, win)


async def pending(
    db: Database, *, telegram_id: int, offset: int, limit: int
) -> tuple[list[WinView], int]:
    """Wins waiting for a decision, oldest first, for coordinators of the whole programme."""
    async with db.read() as session:
        await require_programme(session, telegram_id)
        where = Win.status == WinStatus.PENDING
        total = await session.scalar(select(func.count()).select_from(Win).where(where)) or 0
        rows = (
            await session.scalars(
                select(Win).where(where).order_by(Win.id).offset(offset).limit(limit)
            )
        ).all()
        return [await _view(session, row) for row in rows], total


async def pending_count(db: Database) -> int:
    async with db.read() as session:
        query = select(func.count()).select_from(Win).where(Win.status == WinStatus.PENDING)
        return await session.scalar(query) or 0


async def approve(
    db: Database,
    *,
    telegram_id: int,
    win_id: int,
    version: int,
    chats: Sequence[int],
    now: datetime,
    without_photo: bool = False,
) -> Decision:
    """Approve the win as the card showed it: it is announced in each of `chats` (the
    celebration chats from config) and its author is thanked. `without_photo`: the words
    only; the photo is forgotten in the same update, so it can never be announced later
    (in the digest, say)."""
    async with db.transaction() as session:
        actor = await require_programme(session, telegram_id)
        win = await _win(session, win_id)
        drop = without_photo and win.photo_file_id is not None
        refused = await _decide(
            session, actor, win, version, now, WinStatus.APPROVED, drop_photo=drop
        )
        if refused is not None:
            return refused
        targets = list(dict.fromkeys(chats))
        for chat_id in targets:
            await outbox.queue(
                session,
                chat_id=chat_id,
                kind="win_announce",
                payload={"win_id": win.id},
                dedupe_key=f"win:{win.id}:chat:{chat_id}",
                due_at=now,
                now=now,
            )
        author = await _author(session, win)
        if author is not None:
            await outbox.queue(
                session,
                person=author,
                kind="win_thanks",
                payload={"win_id": win.id, "chats": len(targets), "without_photo": drop},
                dedupe_key=f"win_thanks:{win.id}",
                due_at=now,
                now=now,
            )
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="win.approved",
            subject=("win", win.id),
            chats=len(targets),
            without_photo=drop,
        )
        return Decision(
            outcome=Outcome.DONE,
            win=await _view(session, win),
            chats=len(targets),
            without_photo=drop,
        )


async def reject(
    db: Database,
    *,
    telegram_id: int,
    win_id: int,
    version: int,
    note: str | None,
    now: datetime,
) -> Decision:
    """Do not announce the win; its author is told kindly, with the coordinator's note if any
    (`note` must have passed clean_text with NOTE_MAX)."""
    if note is not None:
        note = _valid(note, NOTE_MAX)
    async with db.transaction() as session:
        actor = await require_programme(session, telegram_id)
        win = await _win(session, win_id)
        refused = await _decide(
            session, actor, win, version, now, WinStatus.REJECTED, reject_note=note
        )
        if refused is not None:
            return refused
        author = await _author(session, win)
        if author is not None:
            await outbox.queue(
                session,
                person=author,
                kind="win_rejected",
                payload={"win_id": win.id},
                dedupe_key=f"win_rejected:{win.id}",
                due_at=now,
                now=now,
            )
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="win.rejected",
            subject=("win", win.id),
            note=note is not None,
        )
        return Decision(outcome=Outcome.DONE, win=await _view(session, win))


async def edit_text(
    db: Database, *, telegram_id: int, win_id: int, version: int, text: str, now: datetime
) -> Decision:
    """Replace the words of a win still waiting (`text` must have passed clean_text); cards
    showing the old words are stale from now on."""
    cleaned = _valid(text, WIN_TEXT_MAX)
    async with db.transaction() as session:
        actor = await require_programme(session, telegram_id)
        win = await _win(session, win_id)
        refused = _refusal(win, version)
        if refused is not None:
            return Decision(outcome=refused, win=await _view(session, win))
        edited = await session.execute(
            update(Win)
            .where(Win.id == win.id, Win.status == WinStatus.PENDING, Win.version == version)
            .values(text=cleaned, version=Win.version + 1)
            .execution_options(synchronize_session=False)
        )
        await session.refresh(win)
        if rowcount(edited) != 1:
            return Decision(
                outcome=_refusal(win, version) or Outcome.STALE, win=await _view(session, win)
            )
        audit.record(
            session, at=now, actor_id=actor.id, action="win.edited", subject=("win", win.id)
        )
        return Decision(outcome=Outcome.DONE, win=await _view(session, win))


# --- for the digest ----------------------------------------------------------------------------


async def approved_between(db: Database, *, start: datetime, end: datetime) -> list[ApprovedWin]:
    """Wins approved from `start` up to (not including) `end`, in the order they were approved."""
    async with db.read() as session:
        rows = (
            await session.scalars(
                select(Win)
                .where(
                    Win.status == WinStatus.APPROVED,
                    Win.decided_at >= start,
                    Win.decided_at < end,
                )
                .order_by(Win.decided_at, Win.id)
            )
        ).all()
        result = []
        for win in rows:
            shown = await _view(session, win)
            if shown.decided_at is None:
                continue
            result.append(
                ApprovedWin(
                    win_id=win.id,
                    text=win.text,
                    credit=shown.credit,
                    has_photo=win.photo_file_id is not None,
                    approved_at=shown.decided_at,
                )
            )
        return result


def _valid(text: str, limit: int) -> str:
    cleaned = clean_text(text, limit)
    if isinstance(cleaned, str):
        return cleaned
    raise ValueError(f"text is {cleaned.value}: check it with clean_text first")


# --- inside the transactions -------------------------------------------------------------------


def _refusal(win: Win, version: int) -> Outcome | None:
    if win.status is not WinStatus.PENDING:
        return Outcome.DECIDED
    if win.version != version:
        return Outcome.STALE
    return None


async def _decide(
    session: AsyncSession,
    actor: Person,
    win: Win,
    version: int,
    now: datetime,
    status: WinStatus,
    *,
    reject_note: str | None = None,
    drop_photo: bool = False,
) -> Decision | None:
    """Record the decision if the card's version is still the win's: None when done, else
    why not (the caller returns it). `drop_photo` forgets the photo in the same update."""
    refused = _refusal(win, version)
    if refused is not None:
        return Decision(outcome=refused, win=await _view(session, win))
    decided = await session.execute(
        update(Win)
        .where(Win.id == win.id, Win.status == WinStatus.PENDING, Win.version == version)
        .values(
            status=status,
            version=Win.version + 1,
            decided_at=now,
            decided_by=actor.id,
            reject_note=reject_note,
            **({"photo_file_id": None} if drop_photo else {}),
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(win)
    if rowcount(decided) != 1:
        outcome = _refusal(win, version) or Outcome.STALE
        return Decision(outcome=outcome, win=await _view(session, win))
    return None


async def _win(session: AsyncSession, win_id: int) -> Win:
    # Locked on PostgreSQL: two decisions on one win are made one after the other.
    query = select(Win).where(Win.id == win_id).with_for_update()
    win = (await session.scalars(query)).one_or_none()
    if win is None:
        raise NotFound("no such win")
    return win


async def _author(session: AsyncSession, win: Win) -> Person | None:
    """The author, if they can still be written to (an erased person has a negative id)."""
    if win.author_id is None:
        return None
    author = await session.get(Person, win.author_id)
    return author if author is not None and (author.telegram_id or 0) > 0 else None


async def _draft(session: AsyncSession, telegram_id: int) -> Draft | None:
    query = select(Draft).where(Draft.telegram_id == telegram_id, Draft.flow == DRAFT_FLOW)
    return (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()


async def _already(session: AsyncSession, draft: Draft) -> SubmitResult:
    win = await session.get(Win, int(draft.data["sent"]))
    return SubmitResult(status=Shared.ALREADY, win=await _view(session, win) if win else None)


async def _view(session: AsyncSession, win: Win) -> WinView:
    names = dict(
        (
            await session.execute(
                select(Person.id, Person).where(
                    Person.id.in_([i for i in (win.author_id, win.decided_by) if i is not None])
                )
            )
        )
        .tuples()
        .all()
    )
    author = names.get(win.author_id) if win.author_id is not None else None
    decider = names.get(win.decided_by) if win.decided_by is not None else None
    return WinView(
        win_id=win.id,
        text=win.text,
        photo_file_id=win.photo_file_id,
        anonymous=win.anonymous,
        status=win.status,
        version=win.version,
        created_at=win.created_at,
        author_id=win.author_id,
        author_name=(
            author.display_name if author is not None and (author.telegram_id or 0) > 0 else None
        ),
        decided_at=win.decided_at,
        decided_by_id=win.decided_by,
        decided_by_name=decider.display_name if decider is not None else None,
        reject_note=win.reject_note,
    )

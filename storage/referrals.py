"""School referrals: a school asks a place for a family, a coordinator places, waitlists or
declines it, the school hears back, the site lead sees the register.

Least data: the school's own reference (never a name), counts and age bands, needs and a note
(sealed), preferred places and dates, and the parent's consent. Every read of the sealed fields,
every export and every decision writes an audit row; anyone else is refused and audited too.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from storage import audit, dates, keys, outbox, spreadsheet
from storage.choosing import named
from storage.crypto import Cipher
from storage.db import Database, rowcount
from storage.errors import NotFound, NotYours, PermissionDenied
from storage.impact import REFERRAL_STATUS_WORDS
from storage.models import (
    REFERENCE_MAX,
    DetailMessage,
    Draft,
    FamilyAttendance,
    Location,
    LunchSession,
    Person,
    PlacementDay,
    Referral,
    ReferralStatus,
    Role,
    RoleGrant,
    School,
    SessionStatus,
)
from storage.roles import (
    all_coordinators,
    coordinator_scope,
    registered,
    require_location,
    require_programme,
)
from storage.text import one_line

MAX_CHILDREN = 10
FORM_FLOW = "referral"  # the school contact's form, kept as a draft
SEALED_DRAFT_FIELDS = ("needs", "note")
NEEDS_MAX = 500
NOTE_MAX = 500
REASON_MAX = 300
_REFERENCE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 ./_-]{{0,{REFERENCE_MAX - 1}}}")
PURGED_REFERENCE = "(removed)"
DETAILS_REMOVED = "details_removed"  # the outbox notice that edits a message at purge
EXPORT_HEADER = (
    "referral",
    "school",
    "reference",
    "children",
    "age bands",
    "needs",
    "note",
    "status",
    "location",
    "from",
    "to",
    "weekdays",
    "submitted",
)


class SubmitLimit(Exception):
    """The contact has sent as many referrals as a day allows."""


class Decision(enum.StrEnum):
    DONE = "done"
    STALE = "stale"  # someone else decided first
    FULL = "full"  # the location has no room for the children on any day it has lunch
    NO_DAYS = "no_days"  # those dates hold none of the days of the week asked for
    NO_SESSIONS = "no_sessions"  # no lunch runs there on any of the days asked for


@dataclass(frozen=True, kw_only=True)
class ReferralForm:
    reference: str
    children: int
    age_bands: tuple[str, ...]
    needs: str | None
    note: str | None
    preferred_location_ids: tuple[int, ...]
    first_day: date
    last_day: date
    weekdays: tuple[int, ...]
    consent: bool


@dataclass(frozen=True, kw_only=True)
class ReferralSummary:
    referral_id: int
    school_id: int
    school_name: str
    reference: str
    children: int
    status: ReferralStatus
    location_id: int | None
    location_name: str | None
    placed_from: date | None
    placed_to: date | None
    placed_weekdays: tuple[int, ...]
    # The days of the lunch sessions the family is placed at, cancelled ones left out.
    placed_days: tuple[date, ...]
    first_day: date
    last_day: date
    weekdays: tuple[int, ...]
    version: int
    purged: bool


@dataclass(frozen=True, kw_only=True)
class ReferralDetail:
    summary: ReferralSummary
    age_bands: tuple[str, ...]
    needs: str | None
    note: str | None
    reason: str | None
    preferred: tuple[str, ...]
    preferred_ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class DecisionOutcome:
    decision: Decision
    full_days: tuple[date, ...] = ()
    summary: ReferralSummary | None = None
    # Of the days asked for, those left out of a placement: no lunch runs, or no room.
    skipped_days: tuple[date, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AskedDay:
    """One of the days a school asked for, as it stands at one location."""

    day: date
    session_id: int | None  # the lunch session there that day; None: no lunch runs
    starts_at: datetime | None
    ends_at: datetime | None
    room: int | None  # children's places left that day; None: no daily capacity set
    fits: bool  # a lunch runs, with room for all the family's children


@dataclass(frozen=True, kw_only=True)
class PlacementOption:
    """Where a family could go: a location and how each day asked for stands there."""

    location_id: int
    name: str
    asked_for: bool  # the school named it
    days: tuple[AskedDay, ...]

    @property
    def open_days(self) -> tuple[AskedDay, ...]:
        return tuple(d for d in self.days if d.fits)


@dataclass(frozen=True, kw_only=True)
class FamiliesTold:
    """Placed families whose school hears of a change to a session (never their needs)."""

    families: int = 0
    children: int = 0
    schools: int = 0  # the families' schools, each once


@dataclass(frozen=True, kw_only=True)
class RegisterEntry:
    referral_id: int
    reference: str
    school_name: str
    children: int
    age_bands: tuple[str, ...]
    needs: str | None
    attended: bool | None


def clean_reference(text: str) -> str | None:
    value = one_line(text)
    return value if _REFERENCE.fullmatch(value) else None


def looks_like_a_name(reference: str) -> bool:
    """A reference of letters only ("Jamie Smith", "Amy") reads like a person's name rather
    than a school's code (HS-014): the contact is asked to confirm it before it is kept."""
    return not any(ch.isdigit() for ch in reference)


def clean_free_text(text: str, limit: int) -> str | None:
    value = one_line(text)
    return value if 0 < len(value) <= limit else None


async def submit(
    db: Database,
    cipher: Cipher,
    *,
    telegram_id: int,
    form: ReferralForm,
    now: datetime,
    daily_limit: int,
) -> ReferralSummary:
    """A school contact's referral; coordinators are told (with no detail in the notice)."""
    if (
        not form.consent
        or not 1 <= form.children <= MAX_CHILDREN
        or (len(form.age_bands) != form.children)
        or form.last_day < form.first_day
        # Not in the past is the form's check (a draft may be sent a day later); far ahead
        # would defeat the purge, which keys on the last day.
        or form.last_day > dates.PLANNING.latest(now.date()) + timedelta(days=1)
    ):
        raise ValueError("incomplete referral")
    async with db.transaction() as session:
        person = await _contact(session, telegram_id)
        sent_today = await session.scalar(
            select(func.count()).where(
                Referral.referred_by == person.id, Referral.created_at > now - timedelta(days=1)
            )
        )
        if (sent_today or 0) >= daily_limit:
            audit.record(session, at=now, actor_id=person.id, action="referral.limited")
            raise SubmitLimit
        # The form's own data key seals the referral too: purging it then also leaves the
        # form's old answers (in dead rows, say) unreadable.
        key_id, sealer = await keys.take_form_key(session, cipher, telegram_id=telegram_id, now=now)
        referral = Referral(
            school_id=person.school_id,
            referred_by=person.id,
            reference=form.reference,
            children=form.children,
            age_bands=list(form.age_bands),
            needs_sealed=sealer.seal(form.needs),
            note_sealed=sealer.seal(form.note),
            key_id=key_id,
            preferred_location_ids=list(form.preferred_location_ids),
            first_day=form.first_day,
            last_day=form.last_day,
            weekdays=list(form.weekdays),
            consent=True,
            status=ReferralStatus.SUBMITTED,
            version=0,
            created_at=now,
        )
        session.add(referral)
        await session.flush()
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action="referral.submitted",
            subject=("referral", referral.id),
        )
        # Coordinators of the whole programme decide referrals; site leads cannot open them.
        for lead in await all_coordinators(session, programme_only=True):
            await outbox.queue(
                session,
                person=lead,
                kind="referral_new",
                payload={"referral_id": referral.id},
                dedupe_key=f"referral_new:{referral.id}:{lead.id}",
                due_at=now,
                now=now,
            )
        return await _summary(session, referral)


async def summary(db: Database, referral_id: int) -> ReferralSummary | None:
    """What a notice about a referral may say: no sealed field."""
    async with db.read() as session:
        referral = await session.get(Referral, referral_id)
        return await _summary(session, referral) if referral else None


@dataclass(frozen=True, kw_only=True)
class DayFamilies:
    families: int
    children: int
    with_needs: int  # how many have needs or allergies recorded (never what they are)


async def placed_on(db: Database, *, location_id: int, day: date) -> DayFamilies:
    """How many families are placed at a location on a day: for notices, so no details."""
    async with db.read() as session:
        placed = (await session.scalars(_placed_at(location_id, day))).all()
    return DayFamilies(
        families=len(placed),
        children=sum(r.children for r in placed),
        with_needs=sum(r.needs_sealed is not None for r in placed),
    )


async def for_school(db: Database, *, telegram_id: int, limit: int = 30) -> list[ReferralSummary]:
    """The newest referrals of the contact's own school."""
    async with db.read() as session:
        person = await _contact(session, telegram_id)
        rows = (
            await session.scalars(
                select(Referral)
                .where(Referral.school_id == person.school_id)
                .order_by(Referral.id.desc())
                .limit(limit)
            )
        ).all()
        return [await _summary(session, row) for row in rows]


async def listed(
    db: Database, *, telegram_id: int, status: ReferralStatus, offset: int, limit: int
) -> tuple[list[ReferralSummary], int]:
    """Referrals in one state, oldest first, for coordinators of the whole programme."""
    async with db.read() as session:
        await require_programme(session, telegram_id)
        where = Referral.status == status
        total = await session.scalar(select(func.count()).where(where)) or 0
        rows = (
            await session.scalars(
                select(Referral).where(where).order_by(Referral.id).offset(offset).limit(limit)
            )
        ).all()
        return [await _summary(session, row) for row in rows], total


async def detail(
    db: Database, cipher: Cipher, *, telegram_id: int, referral_id: int, now: datetime
) -> ReferralDetail:
    """Everything about one referral, for a coordinator of the whole programme or a contact of
    the referring school. The read is audited; so is a refusal."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        referral = await _referral(session, referral_id)
        await _may_see(session, person, referral)
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action="referral.viewed",
            subject=("referral", referral.id),
        )
        names = dict(
            (
                await session.execute(
                    select(Location.id, Location.name).where(
                        Location.id.in_(referral.preferred_location_ids)
                    )
                )
            )
            .tuples()
            .all()
        )
        opener = await keys.of_referral(session, cipher, referral)
        return ReferralDetail(
            summary=await _summary(session, referral),
            age_bands=tuple(referral.age_bands),
            needs=opener.open(referral.needs_sealed),
            note=opener.open(referral.note_sealed),
            reason=opener.open(referral.reason_sealed),
            preferred=tuple(names[i] for i in referral.preferred_location_ids if i in names),
            preferred_ids=tuple(referral.preferred_location_ids),
        )


async def options(
    db: Database,
    *,
    telegram_id: int,
    referral_id: int,
    first_day: date,
    last_day: date,
    tz: ZoneInfo,
    now: datetime,
    location_id: int | None = None,
    search: str = "",
) -> list[PlacementOption]:
    """How the days asked for (on the dates given) stand at each open location (those whose
    name contains `search`, any case or accents), or at one: which have a lunch session, and
    room for the family's children. Locations the school named come first."""
    async with db.read() as session:
        await require_programme(session, telegram_id)
        referral = await session.get(Referral, referral_id)
        if referral is None:
            raise NotFound("no such referral")
        query = select(Location).where(
            Location.archived_at.is_(None), named(Location.name_key, search)
        )
        if location_id is not None:
            query = query.where(Location.id == location_id)
        found = (await session.scalars(query.order_by(func.lower(Location.name)))).all()
        asked = set(referral.preferred_location_ids)
        wanted = _placed_days(first_day, last_day, tuple(referral.weekdays), now)
        # Two queries for every location at once, not two for each one.
        at = await _asked_days(session, found, referral, wanted, tz, now)
        result = [
            PlacementOption(
                location_id=location.id,
                name=location.name,
                asked_for=location.id in asked,
                days=tuple(at[location.id]),
            )
            for location in found
        ]
    return sorted(result, key=lambda option: not option.asked_for)


async def place(
    db: Database,
    *,
    telegram_id: int,
    referral_id: int,
    version: int,
    location_id: int,
    first_day: date,
    last_day: date,
    weekdays: tuple[int, ...],
    tz: ZoneInfo,
    now: datetime,
) -> DecisionOutcome:
    """Place the family at the lunch sessions a location runs on the days asked for (between
    those dates), where there is room for the children; days with no lunch, or no room, are
    left out and named. Nothing is placed if no day is left."""
    async with db.transaction() as session:
        actor = await require_programme(session, telegram_id)
        referral = await _decidable(session, referral_id)
        # Locked: two families placed at one location at once are counted one after the other.
        location = (
            await session.scalars(
                select(Location).where(Location.id == location_id).with_for_update()
            )
        ).one_or_none()
        if location is None or location.archived_at is not None:
            raise NotFound("no such open location")
        wanted = _placed_days(first_day, last_day, weekdays, now)
        if not wanted:
            return DecisionOutcome(decision=Decision.NO_DAYS)
        days = (await _asked_days(session, [location], referral, wanted, tz, now, lock=True))[
            location.id
        ]
        chosen = [d for d in days if d.fits]
        if not chosen:
            full = tuple(d.day for d in days if d.session_id is not None)
            if full:
                return DecisionOutcome(decision=Decision.FULL, full_days=full)
            return DecisionOutcome(decision=Decision.NO_SESSIONS)
        outcome = await _decide(
            session,
            actor,
            referral,
            version,
            now,
            ReferralStatus.PLACED,
            {
                "location_id": location_id,
                "placed_from": chosen[0].day,
                "placed_to": chosen[-1].day,
                "placed_weekdays": sorted({d.day.weekday() for d in chosen}),
                "reason_sealed": None,
            },
        )
        if outcome.decision is not Decision.DONE:
            return outcome
        await session.execute(delete(PlacementDay).where(PlacementDay.referral_id == referral.id))
        session.add_all(
            PlacementDay(referral_id=referral.id, session_id=d.session_id, day=d.day)
            for d in chosen
            if d.session_id is not None
        )
        await session.flush()
        return DecisionOutcome(
            decision=Decision.DONE,
            summary=await _summary(session, referral),
            full_days=tuple(d.day for d in days if d.session_id is not None and not d.fits),
            skipped_days=tuple(d.day for d in days if not d.fits),
        )


async def waitlist(
    db: Database, *, telegram_id: int, referral_id: int, version: int, now: datetime
) -> DecisionOutcome:
    async with db.transaction() as session:
        actor = await require_programme(session, telegram_id)
        referral = await _decidable(session, referral_id)
        return await _decide(
            session, actor, referral, version, now, ReferralStatus.WAITLISTED, _UNPLACED
        )


async def decline(
    db: Database,
    cipher: Cipher,
    *,
    telegram_id: int,
    referral_id: int,
    version: int,
    reason: str,
    now: datetime,
) -> DecisionOutcome:
    async with db.transaction() as session:
        actor = await require_programme(session, telegram_id)
        referral = await _decidable(session, referral_id)
        sealer = await keys.of_referral(session, cipher, referral)
        return await _decide(
            session,
            actor,
            referral,
            version,
            now,
            ReferralStatus.DECLINED,
            _UNPLACED | {"reason_sealed": sealer.seal(reason)},
        )


async def register(
    db: Database,
    cipher: Cipher,
    *,
    telegram_id: int,
    location_id: int,
    day: date,
    now: datetime,
) -> list[RegisterEntry]:
    """The families placed at a location on a day, with every need (food safety). Audited."""
    async with db.transaction() as session:
        actor = await require_location(session, telegram_id, location_id)
        placed = (
            (
                await session.execute(
                    _placed_at(location_id, day)
                    .add_columns(School.name)
                    .join(School, Referral.school_id == School.id)
                    .order_by(School.name, Referral.reference)
                )
            )
            .tuples()
            .all()
        )
        marks = dict(
            (
                await session.execute(
                    select(FamilyAttendance.referral_id, FamilyAttendance.attended).where(
                        FamilyAttendance.day == day,
                        FamilyAttendance.referral_id.in_([r.id for r, _ in placed]),
                    )
                )
            )
            .tuples()
            .all()
        )
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="register.viewed",
            subject=("location", location_id),
            day=day.isoformat(),
            referrals=[r.id for r, _ in placed],
        )
        openers = await keys.of_referrals(session, cipher, [r for r, _ in placed])
        return [
            RegisterEntry(
                referral_id=r.id,
                reference=r.reference,
                school_name=name,
                children=r.children,
                age_bands=tuple(r.age_bands),
                needs=openers[r.id].open(r.needs_sealed),
                attended=marks.get(r.id),
            )
            for r, name in placed
        ]


async def mark_family(
    db: Database,
    *,
    telegram_id: int,
    referral_id: int,
    day: date,
    attended: bool,
    now: datetime,
) -> None:
    """A placed family came, or did not (a later mark corrects an earlier one; audited)."""
    async with db.transaction() as session:
        referral = await _referral(session, referral_id)
        if (
            referral.status is not ReferralStatus.PLACED
            or referral.location_id is None
            or day not in await _live_days(session, referral.id)
            or day > now.date()
        ):
            raise NotFound("not placed on that day")
        actor = await require_location(session, telegram_id, referral.location_id)
        mark = await session.get(FamilyAttendance, (referral_id, day))
        if mark is None:
            session.add(
                FamilyAttendance(
                    referral_id=referral_id,
                    day=day,
                    attended=attended,
                    recorded_by=actor.id,
                    recorded_at=now,
                )
            )
        else:
            mark.attended, mark.recorded_by, mark.recorded_at = attended, actor.id, now
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="family.marked",
            subject=("referral", referral_id),
            day=day.isoformat(),
            attended=attended,
        )


async def purge_expired(db: Database, *, now: datetime, retention: timedelta) -> int:
    """Remove the details of referrals that ended more than `retention` ago (see _ended), for
    good: their data keys are destroyed, then erased from the database files (storage/keys.py),
    so no surviving copy of the sealed details opens. Messages that showed the details are
    edited (through the outbox). Counts, age bands, dates and attendance stay."""
    today = now.date()
    async with db.transaction() as session:
        rows = (await session.scalars(select(Referral).where(Referral.purged_at.is_(None)))).all()
        purged, destroyed = [], []
        for referral in rows:
            if _ended(referral) + retention >= today:
                continue
            referral.needs_sealed = referral.note_sealed = referral.reason_sealed = None
            referral.reference = PURGED_REFERENCE
            referral.purged_at = now
            if referral.key_id is not None:
                destroyed.append(referral.key_id)
                referral.key_id = None
            audit.record(
                session,
                at=now,
                actor_id=None,
                action="referral.purged",
                subject=("referral", referral.id),
            )
            purged.append(referral.id)
        await _forget_messages(session, purged, now)
        await session.flush()
        # Keys of forms cancelled or forgotten go too: their answers may survive in old rows.
        destroyed += await keys.orphans(session, now, FORM_FLOW)
        await keys.destroy(session, destroyed)
        deleted_by = await keys.mark(session)
    await keys.erase_destroyed(db, deleted_by=deleted_by)
    return len(purged)


async def export_csv(
    db: Database,
    cipher: Cipher,
    *,
    telegram_id: int,
    now: datetime,
    school_id: int | None = None,
    location_id: int | None = None,
) -> spreadsheet.CsvFile:
    """A school's or a location's referrals as CSV, with their details. Audited."""
    async with db.transaction() as session:
        actor = await require_programme(session, telegram_id)
        query = select(Referral).order_by(Referral.id)
        if school_id is not None:
            query = query.where(Referral.school_id == school_id)
        if location_id is not None:
            query = query.where(Referral.location_id == location_id)
        rows = (await session.scalars(query)).all()
        openers = await keys.of_referrals(session, cipher, rows)
        lines: list[list[spreadsheet.Cell]] = []
        for referral in rows:
            summary = await _summary(session, referral)
            lines.append(
                [
                    referral.id,
                    summary.school_name,
                    referral.reference,
                    referral.children,
                    "; ".join(referral.age_bands),
                    openers[referral.id].open(referral.needs_sealed) or "",
                    openers[referral.id].open(referral.note_sealed) or "",
                    REFERRAL_STATUS_WORDS[referral.status],
                    summary.location_name,
                    referral.placed_from,
                    referral.placed_to,
                    spreadsheet.Weekdays(tuple(referral.placed_weekdays or ())),
                    referral.created_at.date(),
                ]
            )
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="referrals.exported",
            school_id=school_id,
            location_id=location_id,
            rows=len(rows),
        )
        return spreadsheet.file(EXPORT_HEADER, lines)


async def reseal_all(db: Database, cipher: Cipher, *, now: datetime) -> int:
    """After a new programme key was put first: wrap every data key again with it, and give
    details sealed before data keys (with the programme key itself) a data key of their own.
    Then the old wraps are erased from the files (storage/keys.py), and the old programme key
    can be dropped. Returns how many referrals hold sealed details."""
    async with db.transaction() as session:
        await keys.rewrap_all(session, cipher)
        rows = (await session.scalars(select(Referral))).all()
        sealed = 0
        for referral in rows:
            fields = (referral.needs_sealed, referral.note_sealed, referral.reason_sealed)
            if referral.key_id is None and any(field is not None for field in fields):
                referral.key_id, sealer = await keys.create(session, cipher, now)
                needs, note, reason = (cipher.open(field) for field in fields)
                referral.needs_sealed = sealer.seal(needs)
                referral.note_sealed = sealer.seal(note)
                referral.reason_sealed = sealer.seal(reason)
            sealed += referral.key_id is not None
        # Half-filled referral forms hold sealed needs and notes too: each moves to its form's
        # data key (answers sealed before it had one open with the programme key).
        for draft in (await session.scalars(select(Draft).where(Draft.flow == FORM_FLOW))).all():
            present = [k for k in SEALED_DRAFT_FIELDS if isinstance(draft.data.get(k), str)]
            if not present:
                continue
            _, sealer = await keys.for_form(session, cipher, telegram_id=draft.telegram_id, now=now)
            draft.data = dict(draft.data) | {
                k: sealer.seal(sealer.open(draft.data[k])) for k in present
            }
        deleted_by = await keys.mark(session)
    await keys.erase_destroyed(db, deleted_by=deleted_by)
    return sealed


async def shown(
    db: Database, *, chat_id: int, message_id: int, referral_ids: list[int], now: datetime
) -> None:
    """The bot's message `message_id` in `chat_id` now shows these referrals' details (a
    card, a register): at purge it is edited to remove them. What it showed before is
    replaced, since the message no longer shows that."""
    async with db.transaction() as session:
        await session.execute(
            delete(DetailMessage).where(
                DetailMessage.chat_id == chat_id, DetailMessage.message_id == message_id
            )
        )
        live = (
            await session.scalars(
                select(Referral.id).where(
                    Referral.id.in_(referral_ids), Referral.purged_at.is_(None)
                )
            )
        ).all()
        session.add_all(
            DetailMessage(chat_id=chat_id, message_id=message_id, referral_id=r, shown_at=now)
            for r in sorted(set(live))
        )


async def _forget_messages(session: AsyncSession, purged: list[int], now: datetime) -> None:
    """Each message that showed a purged referral's details gets an edit that removes them
    (through the outbox, sent after this transaction); the message is then forgotten."""
    if not purged:
        return
    messages = (
        await session.execute(
            select(DetailMessage.chat_id, DetailMessage.message_id)
            .where(DetailMessage.referral_id.in_(purged))
            .distinct()
        )
    ).all()
    for chat_id, message_id in messages:
        # Cards and registers are in people's own chats: the notice is theirs (so that one who
        # blocked the bot is known as such), else the chat's.
        person = await session.scalar(select(Person).where(Person.telegram_id == chat_id))
        await outbox.queue(
            session,
            person=person,
            chat_id=None if person is not None else chat_id,
            kind=DETAILS_REMOVED,
            payload={"edit_message_id": message_id},
            dedupe_key=f"{DETAILS_REMOVED}:{chat_id}:{message_id}",
            due_at=now,
            now=now,
        )
        await session.execute(
            delete(DetailMessage).where(
                DetailMessage.chat_id == chat_id, DetailMessage.message_id == message_id
            )
        )


async def form_cipher(db: Database, cipher: Cipher, *, telegram_id: int, now: datetime) -> Cipher:
    """What seals (and opens) the answers of the referral form this person is filling in:
    the form's own data key, which the referral takes over when it is sent."""
    async with db.transaction() as session:
        _, sealer = await keys.for_form(session, cipher, telegram_id=telegram_id, now=now)
        return sealer


async def counts(db: Database) -> dict[str, int]:
    """For the privacy report: how much is held, and how much was already purged."""
    async with db.read() as session:
        by_status = dict(
            (await session.execute(select(Referral.status, func.count()).group_by(Referral.status)))
            .tuples()
            .all()
        )
        purged = (
            await session.scalar(select(func.count()).where(Referral.purged_at.is_not(None))) or 0
        )
    result = {f"referrals {status.value}": by_status.get(status, 0) for status in ReferralStatus}
    result["referrals with details removed"] = purged
    return result


# --- inside the transactions ------------------------------------------------------------------

_UNPLACED: dict[str, Any] = {
    "location_id": None,
    "placed_from": None,
    "placed_to": None,
    "placed_weekdays": None,
    "reason_sealed": None,  # a decline's reason does not outlive the decline
}


async def _decide(
    session: AsyncSession,
    actor: Person,
    referral: Referral,
    version: int,
    now: datetime,
    status: ReferralStatus,
    values: dict[str, Any],
) -> DecisionOutcome:
    decided = await session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.version == version)
        .values(
            status=status,
            version=Referral.version + 1,
            decided_at=now,
            decided_by=actor.id,
            **values,
        )
    )
    if rowcount(decided) != 1:
        return DecisionOutcome(decision=Decision.STALE)
    await session.refresh(referral)
    audit.record(
        session,
        at=now,
        actor_id=actor.id,
        action=f"referral.{status.value}",
        subject=("referral", referral.id),
    )
    if status is not ReferralStatus.PLACED:
        await session.execute(delete(PlacementDay).where(PlacementDay.referral_id == referral.id))
    for contact in await _school_contacts(session, referral.school_id):
        await outbox.queue(
            session,
            person=contact,
            kind="referral_status",
            payload={"referral_id": referral.id, "version": referral.version},
            dedupe_key=f"referral_status:{referral.id}:{referral.version}:{contact.id}",
            due_at=now,
            now=now,
        )
    return DecisionOutcome(decision=Decision.DONE, summary=await _summary(session, referral))


async def _contacts_of(session: AsyncSession, school_ids: Collection[int]) -> list[Person]:
    """The contacts of those schools whom the bot can message (as `_school_contacts`)."""
    if not school_ids:
        return []
    return list(
        (
            await session.scalars(
                select(Person)
                .join(
                    RoleGrant,
                    (RoleGrant.person_id == Person.id) & (RoleGrant.role == Role.SCHOOL_CONTACT),
                )
                .where(
                    Person.school_id.in_(school_ids),
                    Person.active.is_(True),
                    Person.telegram_id.is_not(None),
                )
                .order_by(Person.id)
            )
        ).all()
    )


async def _school_contacts(session: AsyncSession, school_id: int) -> list[Person]:
    return list(
        (
            await session.scalars(
                select(Person)
                .join(
                    RoleGrant,
                    (RoleGrant.person_id == Person.id) & (RoleGrant.role == Role.SCHOOL_CONTACT),
                )
                .where(Person.school_id == school_id, Person.active.is_(True))
            )
        ).all()
    )


def _placed_at(location_id: int, day: date) -> Select[tuple[Referral]]:
    """The families placed at a location's lunch on a day (not one since cancelled)."""
    on_the_day = (
        select(PlacementDay.referral_id)
        .join(LunchSession, PlacementDay.session_id == LunchSession.id)
        .where(
            PlacementDay.day == day,
            LunchSession.location_id == location_id,
            LunchSession.status != SessionStatus.CANCELLED,
        )
    )
    return select(Referral).where(
        Referral.status == ReferralStatus.PLACED,
        Referral.location_id == location_id,
        Referral.id.in_(on_the_day),
    )


async def _live_days(
    session: AsyncSession, referral_id: int, *, after: datetime | None = None
) -> list[date]:
    """The days of a referral's placement whose lunch is not cancelled (starting after
    `after`, if given)."""
    query = (
        select(PlacementDay.day)
        .join(LunchSession, PlacementDay.session_id == LunchSession.id)
        .where(
            PlacementDay.referral_id == referral_id,
            LunchSession.status != SessionStatus.CANCELLED,
        )
        .order_by(PlacementDay.day)
    )
    if after is not None:
        query = query.where(LunchSession.starts_at > after)
    return list((await session.scalars(query)).all())


async def _asked_days(
    session: AsyncSession,
    places: Sequence[Location],
    referral: Referral,
    wanted: list[date],
    tz: ZoneInfo,
    now: datetime,
    *,
    lock: bool = False,
) -> dict[int, list[AskedDay]]:
    """Each day wanted as it stands at each location (by its id): its lunch session still to
    come (the first, if it runs two), and the children's places left beside the families
    already placed (this one's own earlier placement aside). Days gone by are left out: nobody
    is placed there. Two queries, however many locations."""
    today = now.astimezone(tz).date()
    wanted = [day for day in wanted if day >= today]
    if not wanted or not places:
        return {location.id: [] for location in places}
    start = datetime.combine(wanted[0], time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(wanted[-1] + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    to_come = (
        LunchSession.location_id.in_([location.id for location in places]),
        LunchSession.status == SessionStatus.SCHEDULED,
        LunchSession.starts_at > now,
        LunchSession.starts_at >= start,
        LunchSession.starts_at < end,
    )
    query = select(LunchSession).where(*to_come).order_by(LunchSession.starts_at)
    if lock:  # placing: a session cancelled meanwhile is seen as cancelled, not placed at
        query = query.with_for_update()
    lunches = (await session.scalars(query)).all()
    by_day: dict[tuple[int, date], LunchSession] = {}
    for lunch in lunches:
        by_day.setdefault((lunch.location_id, lunch.starts_at.astimezone(tz).date()), lunch)
    taken = dict(
        (
            await session.execute(
                select(PlacementDay.session_id, func.sum(Referral.children))
                .join(Referral, PlacementDay.referral_id == Referral.id)
                .where(
                    # The sessions as a subquery: thousands of ids would pass a driver's limit.
                    PlacementDay.session_id.in_(select(LunchSession.id).where(*to_come)),
                    Referral.status == ReferralStatus.PLACED,
                    Referral.id != referral.id,
                )
                .group_by(PlacementDay.session_id)
            )
        )
        .tuples()
        .all()
    )
    result: dict[int, list[AskedDay]] = {}
    for location in places:
        capacity = location.daily_child_capacity
        days = result.setdefault(location.id, [])
        for day in wanted:
            found = by_day.get((location.id, day))
            if found is None:
                days.append(
                    AskedDay(
                        day=day,
                        session_id=None,
                        starts_at=None,
                        ends_at=None,
                        room=None,
                        fits=False,
                    )
                )
                continue
            room = capacity - int(taken.get(found.id) or 0) if capacity > 0 else None
            days.append(
                AskedDay(
                    day=day,
                    session_id=found.id,
                    starts_at=found.starts_at,
                    ends_at=found.ends_at,
                    room=room,
                    fits=room is None or room >= referral.children,
                )
            )
    return result


# --- when a session is cancelled or moved (called inside storage.rota's transactions) ----------


async def families_at(session: AsyncSession, session_ids: list[int]) -> FamiliesTold:
    """How many placed families (and children, and their schools) those sessions concern:
    before a change."""
    return _families_told(await _placed_at_sessions(session, session_ids))


async def sessions_cancelled(
    session: AsyncSession, session_ids: list[int], now: datetime
) -> FamiliesTold:
    """Lunches were cancelled (already marked so): every family placed at them loses those
    days (the register no longer lists them), and their school's contacts are told once, with
    the days still placed. A family left with no lunch to come goes back on the waiting list,
    so that a coordinator finds it another place."""
    unplaced = await _unplace(session, session_ids, now)
    for referral, lost in unplaced:
        await _tell_school(
            session,
            referral,
            "placement_cancelled",
            {"referral_id": referral.id, "session_ids": lost, "version": referral.version},
            f"placement_cancelled:{referral.id}:{referral.version}",
            now,
        )
    return _families_told([referral for referral, _ in unplaced])


PLACEMENTS_CANCELLED = "placements_cancelled"


async def many_sessions_cancelled(
    session: AsyncSession, session_ids: list[int], now: datetime
) -> FamiliesTold:
    """Many lunches were cancelled at once (a snow day, a location's rest of the holiday): as
    `sessions_cancelled`, but each school contact is told once, in one notice naming each of
    their school's families with the days it lost (payload "families": [[referral id, [session
    ids]], ...]). The notice is keyed by the first session cancelled, which is cancelled once."""
    unplaced = await _unplace(session, session_ids, now)
    schools = {referral.school_id for referral, _ in unplaced}
    contacts: dict[int, list[Person]] = {}
    for contact in await _contacts_of(session, schools):
        if contact.school_id is not None:
            contacts.setdefault(contact.school_id, []).append(contact)
    told: dict[int, tuple[Person, list[list[Any]]]] = {}
    for referral, lost in unplaced:
        for contact in contacts.get(referral.school_id, []):
            told.setdefault(contact.id, (contact, []))[1].append([referral.id, lost])
    first = min(session_ids, default=0)
    await outbox.queue_rows(
        session,
        [
            outbox.row(
                chat_id=outbox.chat_of(contact),
                person_id=contact.id,
                kind=PLACEMENTS_CANCELLED,
                payload={"families": families},
                dedupe_key=f"{PLACEMENTS_CANCELLED}:{first}:{contact.id}",
                due_at=now,
                now=now,
            )
            for contact, families in told.values()
        ],
    )
    return _families_told([referral for referral, _ in unplaced])


def _families_told(placed: Sequence[Referral]) -> FamiliesTold:
    return FamiliesTold(
        families=len(placed),
        children=sum(r.children for r in placed),
        schools=len({r.school_id for r in placed}),
    )


async def _unplace(
    session: AsyncSession, session_ids: list[int], now: datetime
) -> list[tuple[Referral, list[int]]]:
    """The families placed at those (cancelled) lunches lose them: each, with the ids of the
    lunches it lost, in the order they came. A few statements however many families (a snow
    day's are many): their lost and remaining days are read at once, and their rows changed
    in one flush (locked by `_placed_at_sessions`, so each version is bumped once)."""
    placed = await _placed_at_sessions(session, session_ids, lock=True)
    if not placed:
        return []
    ids = [referral.id for referral in placed]
    lost: dict[int, list[int]] = {}
    for referral_id, session_id in (
        await session.execute(
            select(PlacementDay.referral_id, PlacementDay.session_id)
            .where(PlacementDay.referral_id.in_(ids), PlacementDay.session_id.in_(session_ids))
            .order_by(PlacementDay.day)
        )
    ).tuples():
        lost.setdefault(referral_id, []).append(session_id)
    left: dict[int, list[date]] = {}
    to_come: set[int] = set()
    for referral_id, day, starts_at in (
        await session.execute(
            select(PlacementDay.referral_id, PlacementDay.day, LunchSession.starts_at)
            .join(LunchSession, PlacementDay.session_id == LunchSession.id)
            .where(
                PlacementDay.referral_id.in_(ids), LunchSession.status != SessionStatus.CANCELLED
            )
            .order_by(PlacementDay.day)
        )
    ).tuples():
        left.setdefault(referral_id, []).append(day)
        if starts_at > now:
            to_come.add(referral_id)
    unplaced = []
    for referral in placed:
        days = left.get(referral.id, [])
        referral.version += 1
        if referral.id in to_come:
            referral.placed_from, referral.placed_to = days[0], days[-1]
            referral.placed_weekdays = sorted({d.weekday() for d in days})
        else:
            # Its days stay on record (not on any register: it is no longer placed).
            for key, value in (_UNPLACED | {"decided_at": now}).items():
                setattr(referral, key, value)
            referral.status = ReferralStatus.WAITLISTED
        audit.record(
            session,
            at=now,
            actor_id=None,
            action="referral.sessions_cancelled",
            subject=("referral", referral.id),
            sessions=lost.get(referral.id, []),
            waitlisted=referral.id not in to_come,
        )
        unplaced.append((referral, lost.get(referral.id, [])))
    await session.flush()
    return unplaced


async def session_moved(session: AsyncSession, lunch: LunchSession, now: datetime) -> FamiliesTold:
    """A lunch's times changed (on the same day): the schools of the families placed at it
    are told the new times."""
    placed = await _placed_at_sessions(session, [lunch.id], lock=True)
    for referral in placed:
        await _tell_school(
            session,
            referral,
            "placement_moved",
            {"referral_id": referral.id, "session_id": lunch.id},
            f"placement_moved:{referral.id}:{lunch.id}:"
            f"{lunch.starts_at:%Y%m%d%H%M}-{lunch.ends_at:%H%M}",
            now,
        )
    return FamiliesTold(families=len(placed), children=sum(r.children for r in placed))


async def _placed_at_sessions(
    session: AsyncSession, session_ids: Sequence[int], *, lock: bool = False
) -> list[Referral]:
    """The families placed at any of those sessions, each once, in the order they came;
    `lock`: about to be changed (or their schools told), so a placement at the same moment
    waits for this one."""
    query = (
        select(Referral)
        .where(
            Referral.id.in_(
                select(PlacementDay.referral_id).where(PlacementDay.session_id.in_(session_ids))
            ),
            Referral.status == ReferralStatus.PLACED,
        )
        .order_by(Referral.id)
    )
    if lock:
        query = query.with_for_update()
    return list((await session.scalars(query)).all())


async def _tell_school(
    session: AsyncSession,
    referral: Referral,
    kind: str,
    payload: dict[str, Any],
    key: str,
    now: datetime,
) -> None:
    for contact in await _school_contacts(session, referral.school_id):
        await outbox.queue(
            session,
            person=contact,
            kind=kind,
            payload=payload,
            dedupe_key=f"{key}:{contact.id}",
            due_at=now,
            now=now,
        )


async def _may_see(session: AsyncSession, person: Person, referral: Referral) -> None:
    grants = set(
        (
            await session.scalars(select(RoleGrant.role).where(RoleGrant.person_id == person.id))
        ).all()
    )
    school_contact = Role.SCHOOL_CONTACT in grants and person.school_id == referral.school_id
    if school_contact:
        return
    if Role.COORDINATOR in grants and await coordinator_scope(session, person.id) is None:
        return
    raise NotYours(("referral", referral.id))  # audited by whoever answers the person


async def _contact(session: AsyncSession, telegram_id: int) -> Person:
    person = await registered(session, telegram_id)
    is_contact = await session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.person_id == person.id, RoleGrant.role == Role.SCHOOL_CONTACT
        )
    )
    if is_contact is None or person.school_id is None:
        raise PermissionDenied(Role.SCHOOL_CONTACT)
    return person


def _ended(referral: Referral) -> date:
    """When a referral stops being needed: its last placed day; for one declined, the
    decision; for one waiting or never decided, the last day the school asked for. Never
    later than a year after it was made or last decided (storage/dates.py), whatever date
    was stored, so that no date keeps the details for ever."""
    if referral.status is ReferralStatus.PLACED and referral.placed_to is not None:
        ended = referral.placed_to
    elif referral.status is ReferralStatus.DECLINED and referral.decided_at is not None:
        ended = referral.decided_at.date()
    else:
        ended = referral.last_day
    latest = dates.latest_end((referral.decided_at or referral.created_at).date())
    return min(ended, latest)


def _placed_days(first: date, last: date, weekdays: tuple[int, ...], now: datetime) -> list[date]:
    """The days of those weekdays from `first` to `last`, within the planning window
    (storage.dates.PLANNING): sessions are only planned inside it and days gone by are not
    placed, so nothing real lies outside it, and dates from a forged or old button (0001 to
    9999) cannot make millions of days or run off the calendar."""
    today = now.date()  # UTC: near(), give or take a day, of the programme's own date
    first = max(first, dates.PLANNING.earliest(today) - timedelta(days=1))
    last = min(last, dates.PLANNING.latest(today) + timedelta(days=1))
    days = [first + timedelta(days=n) for n in range(max(0, (last - first).days + 1))]
    return [day for day in days if day.weekday() in weekdays]


async def _decidable(session: AsyncSession, referral_id: int) -> Referral:
    """A referral that can still be decided: one whose details were purged cannot (its
    needs are gone, so placing it would put a family on the register without them)."""
    referral = await _referral(session, referral_id)
    if referral.purged_at is not None:
        raise NotFound("details removed after the retention period")
    return referral


async def _referral(session: AsyncSession, referral_id: int) -> Referral:
    query = select(Referral).where(Referral.id == referral_id).with_for_update()
    referral = (await session.scalars(query)).one_or_none()
    if referral is None:
        raise NotFound("no such referral")
    return referral


async def _summary(session: AsyncSession, referral: Referral) -> ReferralSummary:
    school = await session.scalar(select(School.name).where(School.id == referral.school_id))
    location = (
        await session.scalar(select(Location.name).where(Location.id == referral.location_id))
        if referral.location_id
        else None
    )
    return ReferralSummary(
        referral_id=referral.id,
        school_id=referral.school_id,
        school_name=school or "?",
        reference=referral.reference,
        children=referral.children,
        status=referral.status,
        location_id=referral.location_id,
        location_name=location,
        placed_from=referral.placed_from,
        placed_to=referral.placed_to,
        placed_weekdays=tuple(referral.placed_weekdays or ()),
        placed_days=(
            tuple(await _live_days(session, referral.id))
            if referral.status is ReferralStatus.PLACED
            else ()
        ),
        first_day=referral.first_day,
        last_day=referral.last_day,
        weekdays=tuple(referral.weekdays),
        version=referral.version,
        purged=referral.purged_at is not None,
    )

"""School referrals: a school asks a place for a family, a coordinator places, waitlists or
declines it, the school hears back, the site lead sees the register.

Least data: the school's own reference (never a name), counts and age bands, needs and a note
(sealed), preferred places and dates, and the parent's consent. Every read of the sealed fields,
every export and every decision writes an audit row; anyone else is refused and audited too.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, outbox, spreadsheet
from storage.crypto import Cipher
from storage.db import Database, rowcount
from storage.errors import NotFound, NotYours, PermissionDenied
from storage.models import (
    REFERENCE_MAX,
    Draft,
    FamilyAttendance,
    Location,
    Person,
    Referral,
    ReferralStatus,
    Role,
    RoleGrant,
    School,
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
    FULL = "full"  # the location has no room for the children on some days
    NO_DAYS = "no_days"  # those dates hold none of the days of the week asked for


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
        referral = Referral(
            school_id=person.school_id,
            referred_by=person.id,
            reference=form.reference,
            children=form.children,
            age_bands=list(form.age_bands),
            needs_sealed=cipher.seal(form.needs),
            note_sealed=cipher.seal(form.note),
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
        rows = (
            await session.scalars(
                select(Referral).where(
                    Referral.status == ReferralStatus.PLACED,
                    Referral.location_id == location_id,
                    Referral.placed_from <= day,
                    Referral.placed_to >= day,
                )
            )
        ).all()
    placed = [r for r in rows if day.weekday() in (r.placed_weekdays or [])]
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
        return ReferralDetail(
            summary=await _summary(session, referral),
            age_bands=tuple(referral.age_bands),
            needs=cipher.open(referral.needs_sealed),
            note=cipher.open(referral.note_sealed),
            reason=cipher.open(referral.reason_sealed),
            preferred=tuple(names[i] for i in referral.preferred_location_ids if i in names),
            preferred_ids=tuple(referral.preferred_location_ids),
        )


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
    now: datetime,
) -> DecisionOutcome:
    """Place the family at a location on those days, if the location has room every day."""
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
        if not _placed_days(first_day, last_day, weekdays):
            return DecisionOutcome(decision=Decision.NO_DAYS)
        full = await _full_days(session, location, referral, first_day, last_day, weekdays)
        if full:
            return DecisionOutcome(decision=Decision.FULL, full_days=full)
        return await _decide(
            session,
            actor,
            referral,
            version,
            now,
            ReferralStatus.PLACED,
            {
                "location_id": location_id,
                "placed_from": first_day,
                "placed_to": last_day,
                "placed_weekdays": list(weekdays),
                "reason_sealed": None,
            },
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
        return await _decide(
            session,
            actor,
            referral,
            version,
            now,
            ReferralStatus.DECLINED,
            _UNPLACED | {"reason_sealed": cipher.seal(reason)},
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
        rows = (
            (
                await session.execute(
                    select(Referral, School.name)
                    .join(School, Referral.school_id == School.id)
                    .where(
                        Referral.status == ReferralStatus.PLACED,
                        Referral.location_id == location_id,
                        Referral.placed_from <= day,
                        Referral.placed_to >= day,
                    )
                    .order_by(School.name, Referral.reference)
                )
            )
            .tuples()
            .all()
        )
        placed = [(r, name) for r, name in rows if day.weekday() in (r.placed_weekdays or [])]
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
        return [
            RegisterEntry(
                referral_id=r.id,
                reference=r.reference,
                school_name=name,
                children=r.children,
                age_bands=tuple(r.age_bands),
                needs=cipher.open(r.needs_sealed),
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
            or (
                referral.placed_from is None
                or referral.placed_to is None
                or day
                not in _placed_days(
                    referral.placed_from, referral.placed_to, tuple(referral.placed_weekdays or ())
                )
                or day > now.date()
            )
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
    """Remove the details of referrals that ended more than `retention` ago (see _ended).
    Counts, age bands, dates and attendance stay."""
    today = now.date()
    async with db.transaction() as session:
        rows = (await session.scalars(select(Referral).where(Referral.purged_at.is_(None)))).all()
        purged = 0
        for referral in rows:
            if _ended(referral) + retention >= today:
                continue
            referral.needs_sealed = referral.note_sealed = referral.reason_sealed = None
            referral.reference = PURGED_REFERENCE
            referral.purged_at = now
            audit.record(
                session,
                at=now,
                actor_id=None,
                action="referral.purged",
                subject=("referral", referral.id),
            )
            purged += 1
        return purged


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
                    cipher.open(referral.needs_sealed),
                    cipher.open(referral.note_sealed),
                    referral.status.value,
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


async def reseal_all(db: Database, cipher: Cipher) -> int:
    """Seal every sealed field again with the first key (after adding a new one)."""
    async with db.transaction() as session:
        rows = (await session.scalars(select(Referral))).all()
        for referral in rows:
            referral.needs_sealed = cipher.reseal(referral.needs_sealed)
            referral.note_sealed = cipher.reseal(referral.note_sealed)
            referral.reason_sealed = cipher.reseal(referral.reason_sealed)
        # Half-filled referral forms hold sealed needs and notes too.
        for draft in (await session.scalars(select(Draft).where(Draft.flow == FORM_FLOW))).all():
            sealed = {
                key: cipher.reseal(draft.data[key])
                for key in SEALED_DRAFT_FIELDS
                if isinstance(draft.data.get(key), str)
            }
            if sealed:
                draft.data = dict(draft.data) | sealed
        return len(rows)


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
    contacts = (
        await session.scalars(
            select(Person)
            .join(
                RoleGrant,
                (RoleGrant.person_id == Person.id) & (RoleGrant.role == Role.SCHOOL_CONTACT),
            )
            .where(Person.school_id == referral.school_id, Person.active.is_(True))
        )
    ).all()
    for contact in contacts:
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


async def _full_days(
    session: AsyncSession,
    location: Location,
    referral: Referral,
    first: date,
    last: date,
    weekdays: tuple[int, ...],
) -> tuple[date, ...]:
    """The days on which this family's children would take the location over its capacity
    (no capacity set: no limit)."""
    if location.daily_child_capacity <= 0:
        return ()
    others = (
        await session.scalars(
            select(Referral).where(
                Referral.status == ReferralStatus.PLACED,
                Referral.location_id == location.id,
                Referral.id != referral.id,
                Referral.placed_from <= last,
                Referral.placed_to >= first,
            )
        )
    ).all()
    full = []
    day = first
    while day <= last:
        if day.weekday() in weekdays:
            taken = sum(
                o.children
                for o in others
                if o.placed_from
                and o.placed_to
                and o.placed_from <= day <= o.placed_to
                and day.weekday() in (o.placed_weekdays or [])
            )
            if taken + referral.children > location.daily_child_capacity:
                full.append(day)
        day += timedelta(days=1)
    return tuple(full)


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
    decision; for one waiting or never decided, the last day the school asked for."""
    if referral.status is ReferralStatus.PLACED and referral.placed_to is not None:
        return referral.placed_to
    if referral.status is ReferralStatus.DECLINED and referral.decided_at is not None:
        return referral.decided_at.date()
    return referral.last_day


def _placed_days(first: date, last: date, weekdays: tuple[int, ...]) -> list[date]:
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
        first_day=referral.first_day,
        last_day=referral.last_day,
        weekdays=tuple(referral.weekdays),
        version=referral.version,
        purged=referral.purged_at is not None,
    )

"""A session's sign-in sheet, as printed for the site: its jobs, the volunteers who hold a place
(and the places still open, for someone who turns up), and the families placed there.

Only those who may see the session's register get it: a coordinator of the whole programme, or
a site lead of its location (storage.roles.require_location, the register's own rule). The
sheet goes round the room to be signed, so the families are on it by their school's reference,
with their children's count and age bands, and only a yes or no for needs and allergies: the
details stay in /register, where they are audited and removed at the end of the retention
period (paper is not). Every sheet made is audited: the session, how many volunteers, which
referrals; never a name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from storage import audit
from storage.db import Database
from storage.errors import NotFound
from storage.exports import HOLDING, PlaceState, site_leads
from storage.models import (
    Booking,
    BookingStatus,
    Location,
    LunchSession,
    Person,
    PlacementDay,
    Referral,
    ReferralStatus,
    School,
    SessionJob,
    SessionStatus,
)
from storage.roles import require_location


@dataclass(frozen=True, kw_only=True)
class SheetJob:
    job: str
    places: int
    filled: int

    @property
    def open(self) -> int:
        return max(0, self.places - self.filled)


@dataclass(frozen=True, kw_only=True)
class SheetVolunteer:
    name: str
    job: str
    state: PlaceState
    confirmed: bool  # answered a reminder with "I'm coming"
    offline: bool = False  # no Telegram: put on by a coordinator, reminded by nobody but them


@dataclass(frozen=True, kw_only=True)
class SheetFamily:
    reference: str
    school: str
    children: int
    age_bands: tuple[str, ...]
    needs: bool  # needs or allergies are recorded (what they are is in /register)


@dataclass(frozen=True, kw_only=True)
class SignInSheet:
    session_id: int
    location_id: int
    location: str
    address: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool
    leads: tuple[str, ...]
    jobs: tuple[SheetJob, ...]
    volunteers: tuple[SheetVolunteer, ...]  # by job, then name
    families: tuple[SheetFamily, ...]  # by school, then reference

    @property
    def children(self) -> int:
        return sum(family.children for family in self.families)


@dataclass(frozen=True, kw_only=True)
class SessionChoice:
    session_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class SessionChoices:
    """A page of a location's sessions from a day on, for choosing one sheet."""

    location: str
    shown: list[SessionChoice]
    total: int


async def sign_in_sheet(
    db: Database, *, actor_telegram_id: int, session_id: int, now: datetime
) -> SignInSheet:
    """The sheet of one session; OutOfScope for a site lead of another location, NotFound for
    no such session. Audited; a cancelled session's sheet is not made (the caller says so), and
    nothing is recorded."""
    async with db.read() as session:
        lunch = await session.get(LunchSession, session_id)
        if lunch is None:
            raise NotFound("no such session")
        actor = await require_location(session, actor_telegram_id, lunch.location_id)
        location = await session.get(Location, lunch.location_id)
        if location is None:
            raise NotFound("no such location")
        jobs = (
            (
                await session.execute(
                    select(SessionJob.id, SessionJob.job, SessionJob.places)
                    .where(SessionJob.session_id == session_id)
                    .order_by(SessionJob.id)
                )
            )
            .tuples()
            .all()
        )
        holders = (
            (
                await session.execute(
                    select(
                        Booking.job_id,
                        Booking.status,
                        Booking.confirmed_at,
                        Person.display_name,
                        Person.telegram_id.is_(None),
                    )
                    .join(Person, Person.id == Booking.person_id)
                    .where(Booking.session_id == session_id, Booking.status.in_(HOLDING))
                )
            )
            .tuples()
            .all()
        )
        families = (
            (
                await session.execute(
                    select(Referral, School.name)
                    .join(School, School.id == Referral.school_id)
                    .where(
                        Referral.status == ReferralStatus.PLACED,
                        Referral.location_id == lunch.location_id,
                        Referral.id.in_(
                            select(PlacementDay.referral_id).where(
                                PlacementDay.session_id == session_id
                            )
                        ),
                    )
                    .order_by(func.lower(School.name), Referral.reference, Referral.id)
                )
            )
            .tuples()
            .all()
        )
        leads = (await site_leads(session, [lunch.location_id])).get(lunch.location_id, [])
        sheet = _sheet(lunch, location, jobs, holders, families, [lead.name for lead in leads])
    if sheet.cancelled:  # nothing to print: nothing made, nothing to record
        return sheet
    async with db.transaction() as session:
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="signin_sheet.exported",
            subject=("session", session_id),
            location_id=lunch.location_id,
            volunteers=len(sheet.volunteers),
            referrals=[referral.id for referral, _ in families],
        )
    return sheet


async def session_choices(
    db: Database,
    *,
    actor_telegram_id: int,
    location_id: int,
    first: date,
    tz: ZoneInfo,
    offset: int,
    limit: int,
) -> SessionChoices:
    """A location's sessions (not cancelled) from `first` on, `limit` from `offset`."""
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    async with db.read() as session:
        await require_location(session, actor_telegram_id, location_id)
        location = await session.get(Location, location_id)
        if location is None:
            raise NotFound("no such location")
        ahead = select(LunchSession).where(
            LunchSession.location_id == location_id,
            LunchSession.starts_at >= start,
            LunchSession.status != SessionStatus.CANCELLED,
        )
        total = await session.scalar(select(func.count()).select_from(ahead.subquery())) or 0
        rows = (
            await session.scalars(
                ahead.order_by(LunchSession.starts_at).offset(offset).limit(limit)
            )
        ).all()
    return SessionChoices(
        location=location.name,
        shown=[
            SessionChoice(session_id=row.id, starts_at=row.starts_at, ends_at=row.ends_at)
            for row in rows
        ],
        total=int(total),
    )


def _sheet(
    lunch: LunchSession,
    location: Location,
    jobs: Sequence[tuple[int, str, int]],
    holders: Sequence[tuple[int, BookingStatus, datetime | None, str, bool]],
    families: Sequence[tuple[Referral, str]],
    leads: list[str],
) -> SignInSheet:
    """The sheet from what was read: volunteers in the order of the session's jobs, then by
    name; each job's places filled counted from the very bookings listed."""
    order = {job_id: n for n, (job_id, _, _) in enumerate(jobs)}
    names = {job_id: job for job_id, job, _ in jobs}
    listed = sorted(holders, key=lambda h: (order.get(h[0], len(order)), h[3].lower(), h[3]))
    filled = Counter(job_id for job_id, *_ in listed)
    return SignInSheet(
        session_id=lunch.id,
        location_id=location.id,
        location=location.name,
        address=location.address,
        starts_at=lunch.starts_at,
        ends_at=lunch.ends_at,
        cancelled=lunch.status is SessionStatus.CANCELLED,
        leads=tuple(leads),
        jobs=tuple(
            SheetJob(job=job, places=places, filled=filled[job_id]) for job_id, job, places in jobs
        ),
        volunteers=tuple(
            SheetVolunteer(
                name=name,
                job=names.get(job_id, "?"),
                state=HOLDING[status],
                confirmed=confirmed_at is not None,
                offline=offline,
            )
            for job_id, status, confirmed_at, name, offline in listed
        ),
        families=tuple(
            SheetFamily(
                reference=referral.reference,
                school=school,
                children=referral.children,
                age_bands=tuple(referral.age_bands),
                needs=referral.needs_sealed is not None,
            )
            for referral, school in families
        ),
    )

"""One-time invite links: a coordinator invites a school contact or another coordinator.

The token travels only in the link (`/start <token>`); the database keeps its SHA-256, so a copy
of the database opens no door. A token is single use and expires.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.choosing import Page, named, paged
from storage.db import Database, rowcount, upsert
from storage.errors import NotFound
from storage.models import (
    SCHOOL_NAME_MAX,
    Invite,
    InviteAttempt,
    Person,
    Referral,
    Role,
    RoleGrant,
    School,
)
from storage.roles import grant_role, require_programme
from storage.text import one_line

# 24 random bytes: 192 bits, above the 128 the design asks for; 32 URL-safe characters, well
# inside a deep link's 64.
TOKEN_BYTES = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")
INVITE_PAYLOAD_PREFIX = "invite-"  # 7 + 32 characters: inside a deep link's 64
INVITABLE_ROLES = (Role.SCHOOL_CONTACT, Role.COORDINATOR)
# Guessing a token is hopeless (192 bits), but each guess costs a lookup and an audit row: after
# this many links that match no invite, in one window, invite links are refused for a while,
# for that person or (many people at once) for everyone. A real link fails only by being cut
# or mistyped, which one or two retries cover.
ATTEMPT_WINDOW = timedelta(minutes=15)
FAILED_ATTEMPTS_PER_PERSON = 5
FAILED_ATTEMPTS_OVERALL = 50


class RedeemStatus(enum.StrEnum):
    VALID = "valid"  # from check(): the invite can still be used
    JOINED = "joined"
    ALREADY_YOURS = "already_yours"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    THROTTLED = "throttled"  # too many links that matched no invite: try again later


@dataclass(frozen=True, kw_only=True)
class Redemption:
    status: RedeemStatus
    role: Role | None = None
    school_name: str | None = None

    @property
    def joined(self) -> bool:
        return self.status in (RedeemStatus.JOINED, RedeemStatus.ALREADY_YOURS)


@dataclass(frozen=True, kw_only=True)
class CreatedInvite:
    token: str
    role: Role
    school_name: str | None
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class SchoolSummary:
    school_id: int
    name: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(text: str) -> bool:
    return bool(_TOKEN_SHAPE.match(text))


def link_payload(token: str) -> str:
    """What an invite link carries after `?start=`: a fixed word before the token, so that a
    link cut short (an email client that wraps or trims it) still reads as an invite and is
    refused as one, instead of passing for an ordinary /start."""
    return INVITE_PAYLOAD_PREFIX + token


def token_in(payload: str) -> str | None:
    """The invite token a /start payload carries, or None if it carries no invite (a poster's
    `?start=stmarks`). Links made before the prefix carry the bare token. A payload that
    begins like an invite but is not a whole one comes back as it is: it matches no invite,
    so it is refused as unknown."""
    if payload.startswith(INVITE_PAYLOAD_PREFIX):
        rest = payload.removeprefix(INVITE_PAYLOAD_PREFIX)
        return rest if looks_like_token(rest) else payload
    return payload if looks_like_token(payload) else None


def clean_school_name(text: str) -> str | None:
    """A school's name on one line, or None when empty or too long."""
    name = one_line(text)
    return name if 0 < len(name) <= SCHOOL_NAME_MAX else None


async def create(
    db: Database,
    *,
    actor_telegram_id: int,
    role: Role,
    now: datetime,
    valid_for: timedelta,
    school_id: int | None = None,
    school_name: str | None = None,
    source: str | None = None,
) -> CreatedInvite:
    """A new invite for `role`; a school contact's invite names an existing or a new school."""
    if role not in INVITABLE_ROLES:
        raise ValueError(f"cannot invite to role {role}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    async with db.transaction() as session:
        actor = await require_programme(session, actor_telegram_id)
        school = None
        if role is Role.SCHOOL_CONTACT:
            school = await _school(
                session, school_id=school_id, name=school_name, now=now, actor_id=actor.id
            )
        if source is not None:
            await _retire(session, source=source, actor_id=actor.id, now=now)
        invite = Invite(
            source=source,
            token_hash=hash_token(token),
            role=role,
            school_id=school.id if school else None,
            created_by=actor.id,
            created_at=now,
            expires_at=now + valid_for,
        )
        session.add(invite)
        await session.flush()
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="invite.created",
            subject=("invite", invite.id),
            role=role.value,
            school_id=school.id if school else None,
        )
        return CreatedInvite(
            token=token,
            role=role,
            school_name=school.name if school else None,
            expires_at=invite.expires_at,
        )


async def _retire(session: AsyncSession, *, source: str, actor_id: int, now: datetime) -> None:
    replaced = (
        await session.scalars(
            select(Invite).where(
                Invite.source == source,
                Invite.created_by == actor_id,
                Invite.used_at.is_(None),
                Invite.expires_at > now,
            )
        )
    ).all()
    for old in replaced:
        old.expires_at = now
        audit.record(
            session, at=now, actor_id=actor_id, action="invite.replaced", subject=("invite", old.id)
        )


async def check(db: Database, *, telegram_id: int, token_hash: str, now: datetime) -> Redemption:
    """What following the invite would do now, without using it (a newcomer, before they
    accept the privacy notice). A token that matches no invite counts towards the throttle."""
    async with db.transaction() as session:
        invite = await session.scalar(select(Invite).where(Invite.token_hash == token_hash))
        if invite is None:
            return await _failed(session, attempt_by(db, telegram_id), None, now)
        return await _describe(session, invite, _unusable_status(invite, now, None))


def attempt_by(db: Database, telegram_id: int) -> str:
    """Who tried a link, as the throttle counts them: HMAC-SHA256 of the Telegram id under the
    running bot's in-memory key (Database.attempt_key). A plain SHA-256 would not do: there are
    few enough Telegram ids to hash them all and read the id back."""
    return hmac.new(db.attempt_key, str(telegram_id).encode(), hashlib.sha256).hexdigest()


async def redeem(
    session: AsyncSession, person: Person, token_hash: str, now: datetime, *, who: str
) -> Redemption:
    """Use the invite for `person` inside the caller's transaction; at most one person wins.
    `who` is attempt_by() for the person, counted if the link matches no invite."""
    claimed = await session.execute(
        update(Invite)
        .where(Invite.token_hash == token_hash, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_by=person.id, used_at=now)
    )
    invite = await session.scalar(select(Invite).where(Invite.token_hash == token_hash))
    if invite is None:
        return await _failed(session, who, person.id, now)
    if rowcount(claimed) == 1:
        await grant_role(session, person.id, invite.role, by=invite.created_by, now=now)
        if invite.role is Role.SCHOOL_CONTACT:
            person.school_id = invite.school_id
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action="invite.redeemed",
            subject=("invite", invite.id),
            role=invite.role.value,
        )
        return await _describe(session, invite, RedeemStatus.JOINED)
    status = _unusable_status(invite, now, person.id)
    if status is not RedeemStatus.ALREADY_YOURS:
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action="invite.refused",
            subject=("invite", invite.id),
            reason=status.value,
        )
    return await _describe(session, invite, status)


async def schools(db: Database, *, limit: int = 50) -> list[SchoolSummary]:
    async with db.read() as session:
        rows = (
            await session.execute(
                select(School.id, School.name).order_by(func.lower(School.name)).limit(limit)
            )
        ).all()
    return [SchoolSummary(school_id=row.id, name=row.name) for row in rows]


async def _throttled(session: AsyncSession, who: str, now: datetime) -> bool:
    """Whether this person, or everyone, has followed too many unknown links just now."""
    since = InviteAttempt.at > now - ATTEMPT_WINDOW
    overall = await session.scalar(select(func.count()).where(since)) or 0
    if overall >= FAILED_ATTEMPTS_OVERALL:
        return True
    theirs = await session.scalar(select(func.count()).where(since, InviteAttempt.who == who))
    return (theirs or 0) >= FAILED_ATTEMPTS_PER_PERSON


async def _failed(
    session: AsyncSession, who: str, person_id: int | None, now: datetime
) -> Redemption:
    """A link that matched no invite. The throttle is consulted only now, after the lookup, so
    that however many people guess, a real link still works: only links that match nothing
    are refused as throttled. While the throttle is closed a refused link is neither counted
    nor audited, so guessing grows neither table; before, each counts (attempts older than the
    window are forgotten here, so the table holds at most a window's worth) and gets one audit
    row, and the one that closes the throttle says so."""
    if await _throttled(session, who, now):
        return Redemption(status=RedeemStatus.THROTTLED)
    await session.execute(delete(InviteAttempt).where(InviteAttempt.at <= now - ATTEMPT_WINDOW))
    session.add(InviteAttempt(who=who, at=now))
    await session.flush()
    closed = await _throttled(session, who, now)
    audit.record(
        session,
        at=now,
        actor_id=person_id,
        action="invite.throttled" if closed else "invite.refused",
        reason=RedeemStatus.UNKNOWN.value,
    )
    return Redemption(status=RedeemStatus.UNKNOWN)


async def forget_attempts(db: Database, *, now: datetime) -> int:
    """Failed invite attempts older than the throttle window: no longer needed, so not kept."""
    async with db.transaction() as session:
        gone = await session.execute(
            delete(InviteAttempt).where(InviteAttempt.at <= now - ATTEMPT_WINDOW)
        )
        return rowcount(gone)


def _unusable_status(invite: Invite, now: datetime, person_id: int | None) -> RedeemStatus:
    if invite.used_at is not None:
        used_by_them = person_id is not None and invite.used_by == person_id
        return RedeemStatus.ALREADY_YOURS if used_by_them else RedeemStatus.USED
    if invite.expires_at <= now:
        return RedeemStatus.EXPIRED
    return RedeemStatus.VALID


async def _describe(session: AsyncSession, invite: Invite, status: RedeemStatus) -> Redemption:
    school_name = None
    if invite.school_id is not None:
        school_name = await session.scalar(select(School.name).where(School.id == invite.school_id))
    return Redemption(status=status, role=invite.role, school_name=school_name)


async def _school(
    session: AsyncSession,
    *,
    school_id: int | None,
    name: str | None,
    now: datetime,
    actor_id: int,
) -> School:
    if school_id is not None:
        school = await session.get(School, school_id)
        if school is None:
            raise NotFound("no such school")
        return school
    if name is None:
        raise ValueError("a school contact's invite needs a school")
    existing = await session.scalar(select(School).where(func.lower(School.name) == name.lower()))
    if existing is not None:
        return existing
    added = await session.execute(
        upsert(session, School, {"name": name, "created_at": now}, key=["name"])
    )
    school = (await session.scalars(select(School).where(School.name == name))).one()
    if rowcount(added):
        audit.record(
            session,
            at=now,
            actor_id=actor_id,
            action="school.created",
            subject=("school", school.id),
        )
    return school


@dataclass(frozen=True, kw_only=True)
class SchoolInfo:
    school_id: int
    name: str
    area: str | None
    contacts: tuple[str, ...]
    referrals: int


async def add_school(
    db: Database, *, actor_telegram_id: int, name: str, area: str | None, now: datetime
) -> SchoolInfo:
    """Register a partner school (or find it, by name in any case) and set its area."""
    async with db.transaction() as session:
        actor = await require_programme(session, actor_telegram_id)
        school = await _school(session, school_id=None, name=name, now=now, actor_id=actor.id)
        if area is not None:
            school.area = area
        return await _school_info(session, school)


async def set_area(
    db: Database, *, actor_telegram_id: int, school_id: int, area: str | None, now: datetime
) -> SchoolInfo:
    async with db.transaction() as session:
        actor = await require_programme(session, actor_telegram_id)
        school = await session.get(School, school_id)
        if school is None:
            raise NotFound("no such school")
        school.area = area
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="school.edited",
            subject=("school", school.id),
        )
        return await _school_info(session, school)


async def partner_schools(db: Database, *, actor_telegram_id: int) -> list[SchoolInfo]:
    async with db.read() as session:
        await require_programme(session, actor_telegram_id)
        rows = (await session.scalars(select(School).order_by(func.lower(School.name)))).all()
        return [await _school_info(session, school) for school in rows]


async def find_schools(
    db: Database, *, actor_telegram_id: int, search: str, offset: int, limit: int
) -> Page[SchoolInfo]:
    """Partner schools by name, `limit` from `offset`, whose name contains `search` (any case
    or accents), for a coordinator of the whole programme: however many there are, the
    database pages them."""
    async with db.read() as session:
        await require_programme(session, actor_telegram_id)
        query = select(School).where(named(School.name_key, search))
        rows, matching, offset = await paged(
            session, query, order=(func.lower(School.name), School.id), offset=offset, limit=limit
        )
        shown = [await _school_info(session, school) for school in rows]
        return Page(shown=shown, matching=matching, offset=offset)


async def school_info(db: Database, *, actor_telegram_id: int, school_id: int) -> SchoolInfo:
    async with db.read() as session:
        await require_programme(session, actor_telegram_id)
        school = await session.get(School, school_id)
        if school is None:
            raise NotFound("no such school")
        return await _school_info(session, school)


async def _school_info(session: AsyncSession, school: School) -> SchoolInfo:
    contacts = (
        await session.scalars(
            select(Person.display_name)
            .join(
                RoleGrant,
                (RoleGrant.person_id == Person.id) & (RoleGrant.role == Role.SCHOOL_CONTACT),
            )
            .where(Person.school_id == school.id)
            .order_by(Person.display_name)
        )
    ).all()
    referred = (
        await session.scalar(select(func.count()).where(Referral.school_id == school.id)) or 0
    )
    return SchoolInfo(
        school_id=school.id,
        name=school.name,
        area=school.area,
        contacts=tuple(contacts),
        referrals=referred,
    )

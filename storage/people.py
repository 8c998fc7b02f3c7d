"""People, their roles, registration and the bootstrap coordinators from config."""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, dates, invites, locations, outbox, referrals, rota
from storage.db import Database, rowcount
from storage.errors import NotFound, OutOfScope
from storage.models import (
    NAME_MAX,
    CheckStatus,
    CoordinatorScope,
    DataKey,
    DetailMessage,
    Draft,
    HomeLocation,
    InviteAttempt,
    Notice,
    NoticeStatus,
    Person,
    Role,
    RoleGrant,
    School,
    Win,
    WinStatus,
)
from storage.roles import (
    coordinator_scope,
    find_person,
    grant_role,
    registered,
    require_programme,
    require_role,
)
from storage.schedule import OfferWindow
from storage.text import one_line


@dataclass(frozen=True, kw_only=True)
class Profile:
    person_id: int
    telegram_id: int
    display_name: str
    roles: frozenset[Role]
    config_roles: frozenset[Role]
    school_name: str | None
    active: bool
    phone: str | None = None
    check_status: CheckStatus = CheckStatus.NONE
    check_expires_on: date | None = None
    # Limited to some locations (a site lead): what is decided for the whole programme is
    # not theirs (storage.roles.require_programme).
    scoped: bool = False
    # Without Telegram: put on a rota by a coordinator, by name only (telegram_id is 0). Their
    # card offers their check and erasure, never roles; nothing is ever sent to them.
    offline: bool = False

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True, kw_only=True)
class Registration:
    profile: Profile
    created: bool
    invite: invites.Redemption | None


class Erasure(enum.StrEnum):
    ERASED = "erased"
    SELF = "self"
    FROM_CONFIG = "from_config"
    GONE = "gone"


ERASED_NAME = "Former member"


class RoleRemoval(enum.StrEnum):
    REMOVED = "removed"
    NOT_HELD = "not_held"
    FROM_CONFIG = "from_config"
    OWN_COORDINATOR = "own_coordinator"


_PHONE_CHARS = frozenset("0123456789+ -()")
PHONE_DIGITS = (7, 15)  # E.164 allows at most 15 digits


def clean_phone(text: str) -> str | None:
    """A phone number as typed, tidied, or None when it cannot be one."""
    value = one_line(text)
    digits = sum(ch.isdigit() for ch in value)
    if not set(value) <= _PHONE_CHARS or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        return None
    return value


def name_from_telegram(full_name: str) -> str:
    """Telegram allows 64 characters each for first and last name; ours holds 64 in all."""
    cleaned = clean_name(full_name)
    if cleaned is NameProblem.EMPTY:
        return "Volunteer"
    if cleaned is NameProblem.TOO_LONG:
        return one_line(full_name)[: NAME_MAX - 1].rstrip() + "…"
    return cleaned


class NameProblem(enum.Enum):
    EMPTY = "empty"
    TOO_LONG = "too_long"


def clean_name(text: str) -> str | NameProblem:
    """A display name as typed, trimmed and on one line, or what is wrong with it."""
    name = one_line(text)
    if not name:
        return NameProblem.EMPTY
    if len(name) > NAME_MAX:
        return NameProblem.TOO_LONG
    return name


# Built once: it runs for every update (building and keying it afresh cost more than running it).
_PERSON_AND_ROLES = (
    select(Person, RoleGrant)
    .outerjoin(RoleGrant, RoleGrant.person_id == Person.id)
    .where(Person.telegram_id == bindparam("telegram_id"))
)


async def profile(db: Database, telegram_id: int) -> Profile | None:
    """The person with this Telegram id, or None before they registered."""
    async with db.read() as session:
        # Every command and button looks its person up: the person and their roles come in one
        # statement (a row per role held).
        rows = (await session.execute(_PERSON_AND_ROLES, {"telegram_id": telegram_id})).tuples()
        found = list(rows)
        if not found:
            return None
        person = found[0][0]
        grants = [grant for _, grant in found if grant is not None]
        return (await _profiles(session, [person], grants=grants))[0]


async def profile_by_id(db: Database, person_id: int) -> Profile | None:
    async with db.read() as session:
        person = await session.get(Person, person_id)
        return await _profile(session, person) if person else None


async def register(
    db: Database,
    *,
    telegram_id: int,
    name: str,
    now: datetime,
    coordinator_ids: frozenset[int],
    invite_hash: str | None = None,
) -> Registration:
    """Store a person who accepted the privacy notice; idempotent for a repeated accept.

    With `invite_hash` the invite is redeemed in the same transaction; without one (or if it
    can no longer be used) the newcomer becomes a volunteer, which anyone may be.
    """
    attempt = functools.partial(
        _register,
        db,
        telegram_id=telegram_id,
        display_name=name_from_telegram(name),
        now=now,
        coordinator_ids=coordinator_ids,
        invite_hash=invite_hash,
    )
    try:
        return await attempt()
    except IntegrityError:
        # The same person's other accept (a double tap reaching another instance) got in
        # first; now they exist, and running again finds them.
        return await attempt()


async def _register(
    db: Database,
    *,
    telegram_id: int,
    display_name: str,
    now: datetime,
    coordinator_ids: frozenset[int],
    invite_hash: str | None,
) -> Registration:
    async with db.transaction() as session:
        person = await find_person(session, telegram_id)
        created = person is None
        if person is None:
            person = Person(
                telegram_id=telegram_id,
                display_name=display_name,
                active=True,
                privacy_accepted_at=now,
                created_at=now,
            )
            session.add(person)
            await session.flush()
            audit.record(
                session,
                at=now,
                actor_id=person.id,
                action="person.registered",
                subject=("person", person.id),
            )
        else:
            person.active = True
        redemption = None
        if invite_hash is not None:
            redemption = await invites.redeem(
                session, person, invite_hash, now, who=invites.attempt_by(db, telegram_id)
            )
        if created and (redemption is None or not redemption.joined):
            await grant_role(session, person.id, Role.VOLUNTEER, by=None, now=now)
        if telegram_id in coordinator_ids:
            await grant_role(
                session, person.id, Role.COORDINATOR, by=None, now=now, via_config=True
            )
        return Registration(
            profile=await _profile(session, person), created=created, invite=redemption
        )


async def join_by_invite(
    db: Database, *, telegram_id: int, invite_hash: str, now: datetime
) -> invites.Redemption:
    """A registered person follows an invite link."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        return await invites.redeem(
            session, person, invite_hash, now, who=invites.attempt_by(db, telegram_id)
        )


async def rename(db: Database, *, telegram_id: int, name: str, now: datetime) -> Profile:
    """Change the name coordinators see. `name` must have passed clean_name()."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        person.display_name = name
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action="person.renamed",
            subject=("person", person.id),
        )
        return await _profile(session, person)


async def set_phone(db: Database, *, telegram_id: int, phone: str | None, now: datetime) -> Profile:
    """Add, change or (with None) remove the person's own phone number."""
    async with db.transaction() as session:
        person = await registered(session, telegram_id)
        person.phone = phone
        audit.record(
            session,
            at=now,
            actor_id=person.id,
            action="phone.removed" if phone is None else "phone.set",
            subject=("person", person.id),
        )
        return await _profile(session, person)


async def record_check(
    db: Database,
    *,
    actor_telegram_id: int,
    person_id: int,
    status: CheckStatus,
    expires_on: date | None,
    now: datetime,
) -> Profile:
    """A coordinator records a volunteer's safeguarding check (audited)."""
    if expires_on is not None and not dates.CHECK_EXPIRY.near(now.date(), expires_on):
        raise ValueError("a check's expiry out of the window")
    async with db.transaction() as session:
        actor = await require_programme(session, actor_telegram_id)
        person = await session.get(Person, person_id)
        if person is None:
            raise NotFound("no such person")
        person.check_status = status
        person.check_expires_on = expires_on if status is CheckStatus.CLEARED else None
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="check.recorded",
            subject=("person", person.id),
            status=status.value,
            expires_on=expires_on.isoformat() if expires_on else None,
        )
        return await _profile(session, person)


async def card(
    db: Database, *, actor_telegram_id: int, person_id: int, now: datetime
) -> Profile | None:
    """One person's card, for a coordinator, or a site lead when the person is one of their
    locations' people (anyone else: OutOfScope, whatever button was forged). None: no such
    person (erased, say)."""
    async with db.read() as session:
        actor = await require_role(session, actor_telegram_id, Role.COORDINATOR)
        person = await session.get(Person, person_id)
        # Erased: gone. Without Telegram: shown too, so that a coordinator can record their
        # check and erase them on request when they are on no rota to come.
        if person is None or (person.telegram_id is not None and person.telegram_id < 0):
            return None
        scope = await coordinator_scope(session, actor.id)
        if scope is not None:
            visible = await session.scalar(
                select(Person.id).where(Person.id == person_id, _in_view(scope, now))
            )
            if visible is None:
                raise OutOfScope
        return await _profile(session, person)


async def to_manage(
    db: Database, *, actor_telegram_id: int, person_id: int, offline_too: bool = False
) -> Profile | None:
    """A person whose roles, check or data a coordinator of the whole programme is about to
    change (a site lead is refused before any such screen is shown). `offline_too`: someone
    without Telegram too (their check, their erasure), who holds no role to manage."""
    async with db.read() as session:
        await require_programme(session, actor_telegram_id)
        person = await session.get(Person, person_id)
        if person is None or (person.telegram_id is not None and person.telegram_id < 0):
            return None
        if person.telegram_id is None and not offline_too:
            return None
        return await _profile(session, person)


def _in_view(scope: frozenset[int], now: datetime) -> ColumnElement[bool]:
    """The people of a site lead's locations (locations.people_of)."""
    return locations.people_of(scope, now)


async def remove_role(
    db: Database, *, actor_telegram_id: int, person_id: int, role: Role, now: datetime
) -> tuple[RoleRemoval, Profile | None]:
    """A coordinator takes a role away from someone (audited)."""
    async with db.transaction() as session:
        actor = await require_programme(session, actor_telegram_id)
        person = await session.get(Person, person_id)
        if person is None or person.telegram_id is None:  # (no role of theirs is managed)
            return RoleRemoval.NOT_HELD, None
        grant = await session.scalar(
            select(RoleGrant).where(RoleGrant.person_id == person_id, RoleGrant.role == role)
        )
        if grant is None:
            outcome = RoleRemoval.NOT_HELD
        elif grant.via_config:
            outcome = RoleRemoval.FROM_CONFIG
        elif role is Role.COORDINATOR and person.id == actor.id:
            outcome = RoleRemoval.OWN_COORDINATOR
        else:
            await session.delete(grant)
            if role is Role.SCHOOL_CONTACT:
                person.school_id = None
            audit.record(
                session,
                at=now,
                actor_id=actor.id,
                action="role.removed",
                subject=("person", person.id),
                role=role.value,
            )
            outcome = RoleRemoval.REMOVED
        return outcome, await _profile(session, person)


async def erase(
    db: Database,
    *,
    actor_telegram_id: int,
    person_id: int,
    now: datetime,
    offer_window: OfferWindow | timedelta,
) -> Erasure:
    """Delete what identifies a person, on their request (audited). Their future places pass
    to the waitlist; past shifts stay, nameless, in the programme's totals; their wins not yet
    announced are deleted."""
    async with db.transaction() as session:
        actor = await require_programme(session, actor_telegram_id)
        person = await session.get(Person, person_id)
        if person is None or (person.telegram_id is not None and person.telegram_id < 0):
            return Erasure.GONE
        if person.id == actor.id:
            return Erasure.SELF
        if await session.scalar(
            select(RoleGrant.id).where(
                RoleGrant.person_id == person.id, RoleGrant.via_config.is_(True)
            )
        ):
            return Erasure.FROM_CONFIG
        withdrawn = await rota.withdraw(session, person.id, now, offer_window)
        if person.telegram_id is not None:  # (someone without Telegram has no chat, no form)
            await _forget_their_chat(db, session, person, person.telegram_id, now)
        # Wins not yet announced (or turned down) go with them; announced ones are public
        # already, and stay, no longer credited to anyone.
        await session.execute(
            delete(Win).where(Win.author_id == person.id, Win.status != WinStatus.APPROVED)
        )
        for table in (RoleGrant, HomeLocation, CoordinatorScope):
            await session.execute(delete(table).where(table.person_id == person.id))
        await session.execute(
            update(Notice)
            .where(Notice.person_id == person.id, Notice.status == NoticeStatus.PENDING)
            .values(status=NoticeStatus.SKIPPED, finished_at=now)
        )
        # A negative id is no Telegram user's: the row stays for the totals, matching nobody.
        person.telegram_id = -person.id
        person.display_name = ERASED_NAME
        person.phone = None
        person.active = False
        person.school_id = None
        person.check_status = CheckStatus.NONE
        person.check_expires_on = None
        audit.record(
            session,
            at=now,
            actor_id=actor.id,
            action="person.erased",
            subject=("person", person.id),
            bookings_withdrawn=withdrawn,
        )
        return Erasure.ERASED


async def _forget_their_chat(
    db: Database, session: AsyncSession, person: Person, telegram_id: int, now: datetime
) -> None:
    """What an erased person's Telegram chat with the bot holds: their forms, the messages
    that showed referrals, a referral form's key, their failed invite links."""
    await session.execute(delete(Draft).where(Draft.telegram_id == telegram_id))
    # Their chat's messages that showed referrals, and a referral form's key, name them.
    await _clean_their_chat(session, person, now)
    await session.execute(delete(DataKey).where(DataKey.form_of == telegram_id))
    await session.execute(
        delete(InviteAttempt).where(InviteAttempt.who == invites.attempt_by(db, telegram_id))
    )


async def _clean_their_chat(session: AsyncSession, person: Person, now: datetime) -> None:
    """The messages in an erased person's chat that showed a referral's details (its card, a
    register) are edited to remove them now, as a purge would: once the records are gone, no
    purge could find those messages again. The edits are addressed to the chat, as nobody's,
    since the person is erased (a notice of theirs would be skipped), and so are edits queued
    by a purge and not sent yet."""
    await session.execute(
        update(Notice)
        .where(
            Notice.person_id == person.id,
            Notice.kind == referrals.DETAILS_REMOVED,
            Notice.status == NoticeStatus.PENDING,
        )
        .values(person_id=None)
    )
    shown = (
        await session.scalars(
            select(DetailMessage.message_id)
            .where(DetailMessage.chat_id == person.telegram_id)
            .distinct()
        )
    ).all()
    for message_id in shown:
        await outbox.queue(
            session,
            chat_id=person.telegram_id,
            kind=referrals.DETAILS_REMOVED,
            payload={"edit_message_id": message_id},
            dedupe_key=f"{referrals.DETAILS_REMOVED}:{person.telegram_id}:{message_id}",
            due_at=now,
            now=now,
        )
    await session.execute(delete(DetailMessage).where(DetailMessage.chat_id == person.telegram_id))


async def sync_config_coordinators(
    db: Database, *, coordinator_ids: frozenset[int], now: datetime
) -> None:
    """Make the coordinator role of registered people match config (run at start-up)."""
    async with db.transaction() as session:
        await session.execute(
            delete(RoleGrant).where(
                RoleGrant.via_config.is_(True),
                RoleGrant.person_id.in_(
                    select(Person.id).where(Person.telegram_id.not_in(coordinator_ids))
                ),
            )
        )
        if coordinator_ids:
            listed = (
                await session.scalars(select(Person).where(Person.telegram_id.in_(coordinator_ids)))
            ).all()
            for person in listed:
                await grant_role(
                    session, person.id, Role.COORDINATOR, by=None, now=now, via_config=True
                )


async def mark_inactive(db: Database, *, telegram_id: int) -> bool:
    """Telegram says the person blocked the bot: send them nothing more until they return."""
    return await _set_active(db, telegram_id, active=False)


async def mark_active(db: Database, *, telegram_id: int) -> bool:
    """The person wrote to the bot again. Cheap when nothing changes: one read."""
    async with db.read() as session:
        inactive = await session.scalar(
            select(Person.id).where(Person.telegram_id == telegram_id, Person.active.is_(False))
        )
    return inactive is not None and await _set_active(db, telegram_id, active=True)


async def _set_active(db: Database, telegram_id: int, *, active: bool) -> bool:
    async with db.transaction() as session:
        result = await session.execute(
            update(Person)
            .where(Person.telegram_id == telegram_id, Person.active.is_(not active))
            .values(active=active)
        )
        return rowcount(result) > 0


async def profiles(session: AsyncSession, rows: Sequence[Person]) -> list[Profile]:
    """The profiles of these people, in a few queries (a page of a list of them)."""
    return await _profiles(session, rows)


async def _profiles(
    session: AsyncSession, rows: Sequence[Person], *, grants: Sequence[RoleGrant] | None = None
) -> list[Profile]:
    """Profiles of many people in a few queries, not a few per person: the grants (unless the
    caller read them already), and only when needed the site-lead scopes (of coordinators) and
    school names (of school contacts)."""
    ids = [person.id for person in rows]
    if grants is None:
        grants = (
            await session.scalars(select(RoleGrant).where(RoleGrant.person_id.in_(ids)))
        ).all()
    coordinators = {g.person_id for g in grants if g.role is Role.COORDINATOR}
    scoped: set[int] = set()
    if coordinators:
        scoped = set(
            (
                await session.scalars(
                    select(CoordinatorScope.person_id)
                    .where(CoordinatorScope.person_id.in_(coordinators))
                    .distinct()
                )
            ).all()
        )
    school_ids = {p.school_id for p in rows if p.school_id is not None}
    schools: dict[int, str] = {}
    if school_ids:
        schools = dict(
            (await session.execute(select(School.id, School.name).where(School.id.in_(school_ids))))
            .tuples()
            .all()
        )
    return [
        _as_profile(
            person,
            [g for g in grants if g.person_id == person.id],
            schools.get(person.school_id) if person.school_id else None,
            scoped=person.id in scoped,
        )
        for person in rows
    ]


async def _profile(session: AsyncSession, person: Person) -> Profile:
    return (await _profiles(session, [person]))[0]


def _as_profile(
    person: Person, grants: Sequence[RoleGrant], school_name: str | None, *, scoped: bool
) -> Profile:
    return Profile(
        person_id=person.id,
        telegram_id=person.telegram_id or 0,  # (0: without Telegram, as `offline` says)
        display_name=person.display_name,
        roles=frozenset(g.role for g in grants),
        config_roles=frozenset(g.role for g in grants if g.via_config),
        school_name=school_name,
        active=person.active,
        phone=person.phone,
        check_status=person.check_status,
        check_expires_on=person.check_expires_on,
        scoped=scoped,
        offline=person.telegram_id is None,
    )

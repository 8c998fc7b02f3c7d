"""Finding people and granting or checking roles, inside a caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.db import rowcount, upsert
from storage.errors import NotRegistered, OutOfScope, PermissionDenied
from storage.models import CoordinatorScope, Person, Role, RoleGrant


async def find_person(session: AsyncSession, telegram_id: int) -> Person | None:
    query = select(Person).where(Person.telegram_id == telegram_id)
    return (await session.scalars(query)).one_or_none()


async def registered(session: AsyncSession, telegram_id: int) -> Person:
    """The acting person, who must have accepted the privacy notice."""
    person = await find_person(session, telegram_id)
    if person is None:
        raise NotRegistered
    return person


async def require_role(session: AsyncSession, telegram_id: int, role: Role) -> Person:
    """The acting person, re-checked on the server whatever the button said."""
    person = await registered(session, telegram_id)
    held = await session.scalar(
        select(RoleGrant.id).where(RoleGrant.person_id == person.id, RoleGrant.role == role)
    )
    if held is None:
        raise PermissionDenied(role)
    return person


async def grant_role(
    session: AsyncSession,
    person_id: int,
    role: Role,
    *,
    by: int | None,
    now: datetime,
    via_config: bool = False,
) -> bool:
    """Give a role (audited); False if the person already held it. A role someone was invited
    to stays theirs if config later lists them too (config then cannot take it away)."""
    values = {
        "person_id": person_id,
        "role": role,
        "granted_by": by,
        "granted_at": now,
        "via_config": via_config,
    }
    added = await session.execute(upsert(session, RoleGrant, values, key=["person_id", "role"]))
    if rowcount(added) == 0:
        return False
    audit.record(
        session,
        at=now,
        actor_id=by,
        action="role.granted",
        subject=("person", person_id),
        role=role.value,
        via_config=via_config,
    )
    return True


async def coordinator_scope(session: AsyncSession, person_id: int) -> frozenset[int] | None:
    """The locations a coordinator is limited to, or None for the whole programme."""
    rows = (
        await session.scalars(
            select(CoordinatorScope.location_id).where(CoordinatorScope.person_id == person_id)
        )
    ).all()
    return frozenset(rows) if rows else None


async def require_programme(session: AsyncSession, telegram_id: int) -> Person:
    """A coordinator of the whole programme: roles, checks, invites and erasure are theirs,
    not a site lead's."""
    person = await require_role(session, telegram_id, Role.COORDINATOR)
    if await coordinator_scope(session, person.id) is not None:
        raise OutOfScope
    return person


async def require_location(session: AsyncSession, telegram_id: int, location_id: int) -> Person:
    """A coordinator who may act at this location (a site lead only at their own)."""
    person = await require_role(session, telegram_id, Role.COORDINATOR)
    scope = await coordinator_scope(session, person.id)
    if scope is not None and location_id not in scope:
        raise OutOfScope
    return person


async def coordinators_for(
    session: AsyncSession, location_ids: Iterable[int]
) -> dict[int, list[Person]]:
    """Who runs each location: every coordinator of the whole programme, and the site leads
    of that location. Only people the bot can still message."""
    wanted = set(location_ids)
    rows = (
        (
            await session.execute(
                select(Person, CoordinatorScope.location_id)
                .join(
                    RoleGrant,
                    (RoleGrant.person_id == Person.id) & (RoleGrant.role == Role.COORDINATOR),
                )
                .outerjoin(CoordinatorScope, CoordinatorScope.person_id == Person.id)
                .where(Person.active.is_(True))
                .order_by(Person.id)
            )
        )
        .tuples()
        .all()
    )
    everywhere = [person for person, scoped in rows if scoped is None]
    result: dict[int, list[Person]] = {location_id: list(everywhere) for location_id in wanted}
    for person, scoped in rows:
        if scoped is not None and scoped in wanted:
            result[scoped].append(person)
    return result


async def all_coordinators(session: AsyncSession, *, programme_only: bool) -> list[Person]:
    """Every coordinator the bot can still message; `programme_only`: not the site leads (those
    limited to some locations)."""
    query = (
        select(Person)
        .join(RoleGrant, (RoleGrant.person_id == Person.id) & (RoleGrant.role == Role.COORDINATOR))
        .where(Person.active.is_(True))
        .order_by(Person.id)
    )
    if programme_only:
        query = query.where(~Person.id.in_(select(CoordinatorScope.person_id)))
    return list((await session.scalars(query)).all())

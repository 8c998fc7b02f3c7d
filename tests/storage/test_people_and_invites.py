"""People, roles and invites against real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage import audit, directory, invites, people
from storage.db import Database
from storage.directory import Selection
from storage.errors import NotRegistered, PermissionDenied
from storage.invites import RedeemStatus
from storage.models import Invite, Role
from storage.people import NameProblem, RoleRemoval
from tests.support import Clock

RACHEL, OKAFOR, SAM, PRIYA = 1001, 2001, 3001, 3002
COORDINATORS = frozenset({RACHEL})
WEEK = timedelta(days=7)


async def _register(
    db: Database, clock: Clock, telegram_id: int, name: str, invite_hash: str | None = None
) -> people.Registration:
    return await people.register(
        db,
        telegram_id=telegram_id,
        name=name,
        now=clock(),
        coordinator_ids=COORDINATORS,
        invite_hash=invite_hash,
    )


async def test_registering_makes_a_volunteer_once(db: Database, clock: Clock) -> None:
    first = await _register(db, clock, SAM, "Sam Lee")
    again = await _register(db, clock, SAM, "Sam Lee")

    assert first.created and not again.created
    assert first.profile.roles == {Role.VOLUNTEER}
    assert again.profile.person_id == first.profile.person_id
    registered = await audit.recent(db, action="person.registered")
    assert len(registered) == 1


async def test_a_coordinator_named_in_config_gets_the_role_from_config(
    db: Database, clock: Clock
) -> None:
    rachel = (await _register(db, clock, RACHEL, "Rachel")).profile
    assert rachel.roles == {Role.VOLUNTEER, Role.COORDINATOR}
    assert rachel.config_roles == {Role.COORDINATOR}

    await people.sync_config_coordinators(db, coordinator_ids=frozenset(), now=clock())
    after = await people.profile(db, RACHEL)
    assert after is not None and after.roles == {Role.VOLUNTEER}


async def test_an_invite_is_used_once_and_only_before_it_expires(
    db: Database, clock: Clock
) -> None:
    await _register(db, clock, RACHEL, "Rachel")
    created = await invites.create(
        db,
        actor_telegram_id=RACHEL,
        role=Role.SCHOOL_CONTACT,
        school_name="Hillside Primary",
        now=clock(),
        valid_for=WEEK,
    )
    token_hash = invites.hash_token(created.token)

    okafor = await _register(db, clock, OKAFOR, "Mr Okafor", invite_hash=token_hash)
    assert okafor.invite is not None and okafor.invite.status is RedeemStatus.JOINED
    assert okafor.profile.roles == {Role.SCHOOL_CONTACT}
    assert okafor.profile.school_name == "Hillside Primary"

    sam = await _register(db, clock, SAM, "Sam", invite_hash=token_hash)
    assert sam.invite is not None and sam.invite.status is RedeemStatus.USED
    assert sam.profile.roles == {Role.VOLUNTEER}

    again = await people.join_by_invite(db, telegram_id=OKAFOR, invite_hash=token_hash, now=clock())
    assert again.status is RedeemStatus.ALREADY_YOURS

    late = await invites.create(
        db,
        actor_telegram_id=RACHEL,
        role=Role.COORDINATOR,
        now=clock(),
        valid_for=timedelta(hours=1),
    )
    clock.advance(hours=2)
    expired = await people.join_by_invite(
        db, telegram_id=SAM, invite_hash=invites.hash_token(late.token), now=clock()
    )
    assert expired.status is RedeemStatus.EXPIRED
    refusals = await audit.recent(db, action="invite.refused")
    assert {r.details["reason"] for r in refusals} == {"used", "expired"}


async def test_only_the_hash_of_an_invite_token_is_stored(db: Database, clock: Clock) -> None:
    await _register(db, clock, RACHEL, "Rachel")
    created = await invites.create(
        db, actor_telegram_id=RACHEL, role=Role.COORDINATOR, now=clock(), valid_for=WEEK
    )
    async with db.transaction() as session:
        stored = (await session.scalars(select(Invite.token_hash))).all()
    assert stored == [invites.hash_token(created.token)]
    assert created.token not in stored
    assert len(created.token) == 32 and invites.looks_like_token(created.token)


async def test_twenty_people_racing_for_one_invite_leave_one_winner(
    db: Database, clock: Clock
) -> None:
    await _register(db, clock, RACHEL, "Rachel")
    created = await invites.create(
        db, actor_telegram_id=RACHEL, role=Role.COORDINATOR, now=clock(), valid_for=WEEK
    )
    racers = range(5000, 5020)
    for telegram_id in racers:
        await _register(db, clock, telegram_id, f"Racer {telegram_id}")

    outcomes = await asyncio.gather(
        *(
            people.join_by_invite(
                db,
                telegram_id=telegram_id,
                invite_hash=invites.hash_token(created.token),
                now=clock(),
            )
            for telegram_id in racers
        )
    )

    assert sum(o.status is RedeemStatus.JOINED for o in outcomes) == 1
    assert sum(o.status is RedeemStatus.USED for o in outcomes) == 19


async def test_only_coordinators_invite_or_list_people(db: Database, clock: Clock) -> None:
    await _register(db, clock, SAM, "Sam")
    with pytest.raises(PermissionDenied):
        await invites.create(
            db, actor_telegram_id=SAM, role=Role.COORDINATOR, now=clock(), valid_for=WEEK
        )
    with pytest.raises(PermissionDenied):
        await directory.find(
            db, actor_telegram_id=SAM, chosen=Selection(), offset=0, limit=10, now=clock()
        )
    with pytest.raises(NotRegistered):
        await directory.find(
            db, actor_telegram_id=PRIYA, chosen=Selection(), offset=0, limit=10, now=clock()
        )


async def test_a_coordinator_removes_a_role_and_it_is_audited(db: Database, clock: Clock) -> None:
    await _register(db, clock, RACHEL, "Rachel")
    sam = (await _register(db, clock, SAM, "Sam")).profile

    outcome, after = await people.remove_role(
        db, actor_telegram_id=RACHEL, person_id=sam.person_id, role=Role.VOLUNTEER, now=clock()
    )
    assert outcome is RoleRemoval.REMOVED and after is not None and after.roles == set()
    again, _ = await people.remove_role(
        db, actor_telegram_id=RACHEL, person_id=sam.person_id, role=Role.VOLUNTEER, now=clock()
    )
    assert again is RoleRemoval.NOT_HELD
    removals = await audit.recent(db, action="role.removed")
    assert [(r.subject_id, r.details["role"]) for r in removals] == [(sam.person_id, "volunteer")]


async def test_config_and_own_coordinator_roles_are_not_removed_in_the_bot(
    db: Database, clock: Clock
) -> None:
    rachel = (await _register(db, clock, RACHEL, "Rachel")).profile
    outcome, _ = await people.remove_role(
        db, actor_telegram_id=RACHEL, person_id=rachel.person_id, role=Role.COORDINATOR, now=clock()
    )
    assert outcome is RoleRemoval.FROM_CONFIG

    created = await invites.create(
        db, actor_telegram_id=RACHEL, role=Role.COORDINATOR, now=clock(), valid_for=WEEK
    )
    priya = (
        await _register(db, clock, PRIYA, "Priya", invite_hash=invites.hash_token(created.token))
    ).profile
    own, _ = await people.remove_role(
        db, actor_telegram_id=PRIYA, person_id=priya.person_id, role=Role.COORDINATOR, now=clock()
    )
    assert own is RoleRemoval.OWN_COORDINATOR


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  Sam   Lee ", "Sam Lee"),
        ("Sam\nLee", "Sam Lee"),
        ("\u200b", NameProblem.EMPTY),
        ("", NameProblem.EMPTY),
        ("x" * 65, NameProblem.TOO_LONG),
        ("Zoë <script>", "Zoë <script>"),  # stored as typed; escaped when shown
    ],
)
def test_names_are_cleaned_or_refused(typed: str, expected: str | NameProblem) -> None:
    assert people.clean_name(typed) == expected


async def test_racing_accepts_and_new_schools_write_once(db: Database, clock: Clock) -> None:
    registrations = await asyncio.gather(*(_register(db, clock, SAM, "Sam") for _ in range(5)))
    assert sum(r.created for r in registrations) == 1
    assert len({r.profile.person_id for r in registrations}) == 1

    await _register(db, clock, RACHEL, "Rachel")
    created = await asyncio.gather(
        *(
            invites.create(
                db,
                actor_telegram_id=RACHEL,
                role=Role.SCHOOL_CONTACT,
                school_name="Hillside Primary",
                now=clock(),
                valid_for=WEEK,
            )
            for _ in range(5)
        )
    )
    assert {c.school_name for c in created} == {"Hillside Primary"}
    assert [s.name for s in await invites.schools(db)] == ["Hillside Primary"]
    assert len(await audit.recent(db, action="school.created")) == 1


async def test_a_second_invite_from_the_same_place_retires_the_first(
    db: Database, clock: Clock
) -> None:
    await _register(db, clock, RACHEL, "Rachel")
    first = await invites.create(
        db,
        actor_telegram_id=RACHEL,
        role=Role.COORDINATOR,
        now=clock(),
        valid_for=WEEK,
        source="message:1001:7",
    )
    second = await invites.create(
        db,
        actor_telegram_id=RACHEL,
        role=Role.COORDINATOR,
        now=clock(),
        valid_for=WEEK,
        source="message:1001:7",
    )
    other = await invites.create(
        db,
        actor_telegram_id=RACHEL,
        role=Role.COORDINATOR,
        now=clock(),
        valid_for=WEEK,
        source="message:1001:8",
    )
    statuses = [
        (
            await invites.check(
                db, telegram_id=RACHEL, token_hash=invites.hash_token(made.token), now=clock()
            )
        ).status
        for made in (first, second, other)
    ]
    assert statuses == [RedeemStatus.EXPIRED, RedeemStatus.VALID, RedeemStatus.VALID]

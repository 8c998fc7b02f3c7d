"""The shared sending lane's ledger in PostgreSQL: which sends were let go, and when answered.

Every call is one statement in autocommit (one round trip): `grant` runs the `lane_grant()`
function of migration 0011 (the rules are in bot/shared_lane.py), `answered` records the answers
of several sends at once, `pause` a 429's wait for everyone. Times are the database server's
clock, so instances on machines whose clocks disagree still count one budget.

The lane has an engine of its own, with a couple of connections: a reply must not wait for a
connection behind the handlers' queries, and no statement here is worth pinging for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# The advisory lock lane_grant() takes (b"lunchlan" as a number); others must not use it.
LANE_LOCK = 7815274101604114798
POOL_SIZE = 2  # one asks for grants, one records answers; a pause may borrow a third
MAX_OVERFLOW = 2
# A lane that waits for the database holds every send: past these the instance paces alone.
CONNECT_TIMEOUT = 3.0
STATEMENT_TIMEOUT = 2.0

_GRANT = text(
    "SELECT grants, wait FROM lane_grant(:chats, :groups, :replies, :capacity, :span, "
    ":chat_gap, :group_capacity, :group_span, :lease, :reserve, :recent, :smooth, :burst)"
)
# An answer seen `age` seconds before the statement ran: the server's clock less that age is
# never earlier than the real answer, so the send counts at least as long as it should.
_ANSWERED = text(
    "UPDATE lane_grants AS g SET answered_at = greatest(g.granted_at, "
    "clock_timestamp() - a.age * interval '1 second') "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:ages AS double precision[])) AS a(id, age) "
    "WHERE g.id = a.id"
).bindparams(bindparam("ids"), bindparam("ages"))
_PAUSE = text(
    "UPDATE lane_state SET paused_until = greatest(paused_until, "
    "clock_timestamp() + :seconds * interval '1 second') WHERE id = 1"
)


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Telegram's limits as the shared lane keeps them (seconds; capacities in sends)."""

    capacity: int  # sends in any `span`
    span: float
    chat_gap: float  # between two messages to one chat (0: no spacing)
    group_capacity: int  # sends to one group in any `group_span`
    group_span: float
    lease: float  # how long a send with no recorded answer counts
    reserve: int  # left free for direct replies while they compete
    recent: float  # how long the reserve is kept after a reply competed
    smooth: float  # the outbox sends at most `burst` in any `smooth` seconds
    burst: int


@dataclass(frozen=True)
class Request:
    chat: str | None  # None: an edit, counted in the overall limit only
    group: bool
    reply: bool


@dataclass(frozen=True)
class Grants:
    ids: list[int | None]  # a grant's id for each request let go, None for each held
    wait: float | None  # seconds until one held may go (a lower bound); None: none held


class Ledger:
    """The lane's connection to the database. Creating one opens no connection."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            hide_parameters=True,
            connect_args={"timeout": CONNECT_TIMEOUT, "command_timeout": STATEMENT_TIMEOUT},
        )

    async def grant(self, requests: Sequence[Request], limits: Limits) -> Grants:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    _GRANT,
                    {
                        "chats": [r.chat for r in requests],
                        "groups": [r.group for r in requests],
                        "replies": [r.reply for r in requests],
                        "capacity": limits.capacity,
                        "span": float(limits.span),
                        "chat_gap": float(limits.chat_gap),
                        "group_capacity": limits.group_capacity,
                        "group_span": float(limits.group_span),
                        "lease": float(limits.lease),
                        "reserve": limits.reserve,
                        "recent": float(limits.recent),
                        "smooth": float(limits.smooth),
                        "burst": limits.burst,
                    },
                )
            ).one()
        ids: list[int | None] = list(row.grants or [None] * len(requests))
        return Grants(ids=ids, wait=None if row.wait is None else float(row.wait))

    async def answered(self, answers: Sequence[tuple[int, float]]) -> None:
        """Each (grant, seconds since its answer came back)."""
        async with self.engine.connect() as connection:
            await connection.execute(
                _ANSWERED,
                {"ids": [grant for grant, _ in answers], "ages": [age for _, age in answers]},
            )

    async def pause(self, seconds: float) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(_PAUSE, {"seconds": float(seconds)})

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()

"""lane: one sending budget shared by every instance on PostgreSQL

`lane_grants` records each message some instance was let send, `lane_state` a pause after a 429
and when a direct reply last competed for the budget; `lane_grant()` decides, under an advisory
lock, which of a batch of sends may go now (bot/shared_lane.py explains the rules). On SQLite the
tables are made (the schema is the same everywhere) but never used: one instance is the limit.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One call is one short transaction: lock, read the window, grant in order, record. The advisory
# lock's key is b"lunchlan" read as a number (storage.lane.LANE_LOCK); other advisory locks of
# the bot must use other keys. A row counts in a window from when it was granted until `span`
# after its answer; while no answer is recorded it counts until its lease ends, and it leaves no
# earlier than `span` from now (an answer now would keep it that long): that lower bound is the
# `wait` returned. The outbox's sends (not replies) go at most `burst` in any `smooth` seconds,
# so that the second's slots free one by one, not all at once, and a reply waits little.
GRANT = """
CREATE FUNCTION lane_grant(
    chats text[],
    groups boolean[],
    replies boolean[],
    capacity integer,
    span double precision,
    chat_gap double precision,
    group_capacity integer,
    group_span double precision,
    lease double precision,
    reserve integer,
    recent double precision,
    smooth double precision,
    burst integer,
    OUT grants bigint[],
    OUT wait double precision
) LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(array_length(chats, 1), 0);
    w_span interval := span * interval '1 second';
    w_gap interval := chat_gap * interval '1 second';
    w_group interval := group_span * interval '1 second';
    w_lease interval := lease * interval '1 second';
    w_smooth interval := smooth * interval '1 second';
    t timestamptz;
    pause_end timestamptz;
    last_reply timestamptz;
    held integer := 0;
    leaves timestamptz[];
    lately timestamptz[];
    counted integer;
    group_leaves timestamptz[];
    in_group integer;
    cap integer;
    chat_free timestamptz;
    new_id bigint;
    contended boolean := false;
BEGIN
    PERFORM pg_advisory_xact_lock(7815274101604114798);
    t := clock_timestamp();
    grants := array_fill(NULL::bigint, ARRAY[n]);
    SELECT s.paused_until, s.replies_at INTO pause_end, last_reply
    FROM lane_state s WHERE s.id = 1;
    IF pause_end > t THEN
        wait := extract(epoch FROM pause_end - t);
        RETURN;
    END IF;
    IF last_reply > t - recent * interval '1 second' THEN
        held := reserve;
    END IF;
    DELETE FROM lane_grants g
    WHERE g.granted_at < t - w_lease - greatest(w_span, w_gap, w_group);
    SELECT coalesce(array_agg(x.leaves_at ORDER BY x.leaves_at), '{}'),
           coalesce(array_agg(x.granted_at ORDER BY x.granted_at)
                    FILTER (WHERE x.granted_at > t - w_smooth), '{}')
    INTO leaves, lately
    FROM (
        SELECT CASE WHEN g.answered_at IS NULL THEN least(g.granted_at + w_lease, t + w_span)
                    ELSE g.answered_at + w_span END AS leaves_at,
               g.granted_at
        FROM lane_grants g
        WHERE g.granted_at > t - w_lease - w_span
          AND (g.answered_at > t - w_span
               OR (g.answered_at IS NULL AND g.granted_at > t - w_lease))
    ) x;
    counted := cardinality(leaves);
    FOR i IN 1..n LOOP
        cap := CASE WHEN replies[i] THEN capacity ELSE capacity - held END;
        IF replies[i] AND counted >= capacity - reserve THEN
            contended := true;
        END IF;
        IF counted >= cap THEN
            wait := least(wait, extract(epoch FROM leaves[counted - cap + 1] - t));
            CONTINUE;
        END IF;
        IF NOT replies[i] AND cardinality(lately) >= burst THEN
            wait := least(
                wait, extract(epoch FROM lately[cardinality(lately) - burst + 1] + w_smooth - t)
            );
            CONTINUE;
        END IF;
        IF chats[i] IS NOT NULL THEN
            SELECT max(CASE WHEN g.answered_at IS NULL
                            THEN least(g.granted_at + w_lease, t + w_gap)
                            ELSE g.answered_at + w_gap END)
            INTO chat_free
            FROM lane_grants g
            WHERE g.chat = chats[i]
              AND g.granted_at > t - w_lease - w_gap
              AND (g.answered_at > t - w_gap
                   OR (g.answered_at IS NULL AND g.granted_at > t - w_lease));
            IF chat_free > t THEN
                wait := least(wait, extract(epoch FROM chat_free - t));
                CONTINUE;
            END IF;
            IF groups[i] THEN
                SELECT coalesce(array_agg(x.leaves_at ORDER BY x.leaves_at), '{}')
                INTO group_leaves
                FROM (
                    SELECT CASE WHEN g.answered_at IS NULL
                                THEN least(g.granted_at + w_lease, t + w_group)
                                ELSE g.answered_at + w_group END AS leaves_at
                    FROM lane_grants g
                    WHERE g.chat = chats[i]
                      AND g.granted_at > t - w_lease - w_group
                      AND (g.answered_at > t - w_group
                           OR (g.answered_at IS NULL AND g.granted_at > t - w_lease))
                ) x;
                in_group := cardinality(group_leaves);
                IF in_group >= group_capacity THEN
                    wait := least(
                        wait,
                        extract(epoch FROM group_leaves[in_group - group_capacity + 1] - t)
                    );
                    CONTINUE;
                END IF;
            END IF;
        END IF;
        INSERT INTO lane_grants (chat, granted_at) VALUES (chats[i], t) RETURNING id INTO new_id;
        grants[i] := new_id;
        leaves := ARRAY(SELECT x FROM unnest(leaves || (t + w_span)) AS x ORDER BY x);
        lately := lately || t;
        counted := counted + 1;
    END LOOP;
    IF contended THEN
        UPDATE lane_state SET replies_at = t WHERE id = 1;
    END IF;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "lane_grants",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat", sa.String(length=64), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lane_grants")),
    )
    with op.batch_alter_table("lane_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lane_grants_granted_at"), ["granted_at"])
        batch_op.create_index("ix_lane_grants_chat_granted_at", ["chat", "granted_at"])
    op.create_table(
        "lane_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replies_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lane_state")),
    )
    op.execute("INSERT INTO lane_state (id) VALUES (1)")
    if op.get_bind().dialect.name == "postgresql":
        # Grants matter for a minute: after a crash of the server they need not come back, and
        # not writing them to the WAL keeps thirty inserts a second cheap.
        op.execute("ALTER TABLE lane_grants SET UNLOGGED")
        op.execute(GRANT)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION lane_grant(text[], boolean[], boolean[], integer, double precision, "
            "double precision, integer, double precision, double precision, integer, "
            "double precision, double precision, integer)"
        )
    op.drop_table("lane_state")
    with op.batch_alter_table("lane_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_lane_grants_chat_granted_at")
        batch_op.drop_index(batch_op.f("ix_lane_grants_granted_at"))
    op.drop_table("lane_grants")

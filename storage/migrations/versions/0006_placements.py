"""placements name real sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:50:00
"""

import json
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "placement_days",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_placement_days_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["lunch_sessions.id"],
            name=op.f("fk_placement_days_session_id_lunch_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", "session_id", name=op.f("pk_placement_days")),
    )
    op.create_index(op.f("ix_placement_days_day"), "placement_days", ["day"], unique=False)
    op.create_index(
        op.f("ix_placement_days_session_id"), "placement_days", ["session_id"], unique=False
    )
    _link_existing_placements()


def _link_existing_placements() -> None:
    """Placements made before this revision named dates, not sessions: each is linked to the
    sessions at its location on its dates and days of the week (the session's UTC date stands
    for its local day: lunches are at midday). Days with no session had no lunch to offer."""
    bind = op.get_bind()
    placed = bind.execute(
        sa.text(
            "SELECT id, location_id, placed_from, placed_to, placed_weekdays FROM referrals "
            "WHERE status = 'placed' AND location_id IS NOT NULL AND placed_from IS NOT NULL "
            "AND placed_to IS NOT NULL"
        )
    ).all()
    for referral_id, location_id, first, last, weekdays in placed:
        days = json.loads(weekdays) if isinstance(weekdays, str) else list(weekdays or [])
        sessions = bind.execute(
            sa.text(
                "SELECT id, starts_at FROM lunch_sessions WHERE location_id = :location "
                "AND status = 'scheduled'"
            ),
            {"location": location_id},
        ).all()
        for session_id, starts_at in sessions:
            day = _as_date(starts_at)
            if _as_date(first) <= day <= _as_date(last) and day.weekday() in days:
                bind.execute(
                    sa.text(
                        "INSERT INTO placement_days (referral_id, session_id, day) "
                        "VALUES (:referral, :session, :day)"
                    ),
                    {"referral": referral_id, "session": session_id, "day": day},
                )


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def downgrade() -> None:
    op.drop_index(op.f("ix_placement_days_session_id"), table_name="placement_days")
    op.drop_index(op.f("ix_placement_days_day"), table_name="placement_days")
    op.drop_table("placement_days")

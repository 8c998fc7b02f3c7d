"""referrals

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:30:34.916795
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("referred_by", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("age_bands", sa.JSON(), nullable=False),
        sa.Column("needs_sealed", sa.Text(), nullable=True),
        sa.Column("note_sealed", sa.Text(), nullable=True),
        sa.Column("preferred_location_ids", sa.JSON(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "waitlisted",
                "placed",
                "declined",
                name="referralstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("reason_sealed", sa.Text(), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("placed_from", sa.Date(), nullable=True),
        sa.Column("placed_to", sa.Date(), nullable=True),
        sa.Column("placed_weekdays", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["people.id"],
            name=op.f("fk_referrals_decided_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_referrals_location_id_locations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referred_by"],
            ["people.id"],
            name=op.f("fk_referrals_referred_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_referrals_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_school_id"), ["school_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_status"), ["status"], unique=False)

    op.create_table(
        "family_attendance",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["people.id"],
            name=op.f("fk_family_attendance_recorded_by_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_family_attendance_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", "day", name=op.f("pk_family_attendance")),
    )
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area", sa.String(length=100), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("area")

    op.drop_table("family_attendance")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_status"))
        batch_op.drop_index(batch_op.f("ix_referrals_school_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_location_id"))

    op.drop_table("referrals")

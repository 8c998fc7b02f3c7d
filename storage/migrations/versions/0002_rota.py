"""rota: locations, sessions, jobs, bookings, outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:29:11.804952
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=False),
        sa.Column("daily_child_capacity", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("name", name=op.f("uq_locations_name")),
    )
    op.create_table(
        "lunch_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("scheduled", "cancelled", name="sessionstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("meals_served", sa.Integer(), nullable=True),
        sa.Column("children_attended", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_lunch_sessions_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_lunch_sessions_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lunch_sessions")),
        sa.UniqueConstraint(
            "location_id", "starts_at", name=op.f("uq_lunch_sessions_location_id_starts_at")
        ),
    )
    with op.batch_alter_table("lunch_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lunch_sessions_starts_at"), ["starts_at"], unique=False
        )

    op.create_table(
        "coordinator_scopes",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_coordinator_scopes_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_coordinator_scopes_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "location_id", name=op.f("pk_coordinator_scopes")),
    )
    op.create_table(
        "home_locations",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_home_locations_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_home_locations_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "location_id", name=op.f("pk_home_locations")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=128), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "blocked",
                "gone",
                "failed",
                "skipped",
                name="noticestatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_outbox_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "due_at"], unique=False)

    op.create_table(
        "session_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.Column("needs_check", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "taken >= 0 AND taken <= places", name=op.f("ck_session_jobs_taken_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["lunch_sessions.id"],
            name=op.f("fk_session_jobs_session_id_lunch_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_jobs")),
        sa.UniqueConstraint("session_id", "job", name=op.f("uq_session_jobs_session_id_job")),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "booked",
                "waitlisted",
                "offered",
                "cancelled",
                "declined",
                "expired",
                "attended",
                "no_show",
                name="bookingstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["session_jobs.id"],
            name=op.f("fk_bookings_job_id_session_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_bookings_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["lunch_sessions.id"],
            name=op.f("fk_bookings_session_id_lunch_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_bookings_queue", ["job_id", "status", "created_at"], unique=False)
        batch_op.create_index(
            "uq_bookings_live",
            ["session_id", "person_id"],
            unique=True,
            sqlite_where=sa.text(
                "status IN ('booked', 'waitlisted', 'offered', 'attended', 'no_show')"
            ),
            postgresql_where=sa.text(
                "status IN ('booked', 'waitlisted', 'offered', 'attended', 'no_show')"
            ),
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "check_status",
                sa.Enum(
                    "none", "pending", "cleared", name="checkstatus", native_enum=False, length=32
                ),
                server_default="none",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("check_expires_on", sa.Date(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("check_expires_on")
        batch_op.drop_column("check_status")
        batch_op.drop_column("phone")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bookings_live",
            sqlite_where=sa.text(
                "status IN ('booked', 'waitlisted', 'offered', 'attended', 'no_show')"
            ),
            postgresql_where=sa.text(
                "status IN ('booked', 'waitlisted', 'offered', 'attended', 'no_show')"
            ),
        )
        batch_op.drop_index("ix_bookings_queue")
        batch_op.drop_index(batch_op.f("ix_bookings_person_id"))

    op.drop_table("bookings")
    op.drop_table("session_jobs")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    op.drop_table("home_locations")
    op.drop_table("coordinator_scopes")
    with op.batch_alter_table("lunch_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lunch_sessions_starts_at"))

    op.drop_table("lunch_sessions")
    op.drop_table("locations")

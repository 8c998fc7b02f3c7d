"""people without Telegram (recorded by a coordinator by name only), and broadcasts to one
session's team

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_broadcasts_session_id_lunch_sessions"),
            "lunch_sessions",
            ["session_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_broadcasts_session_id_lunch_sessions"), type_="foreignkey"
        )
        batch_op.drop_column("session_id")
    # People without Telegram get what an erased person has, a negative id that is nobody's:
    # their rows stay, for the shifts they did.
    op.execute("UPDATE people SET telegram_id = -id WHERE telegram_id IS NULL")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)

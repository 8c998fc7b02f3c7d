"""failed invite attempts keep a keyed hash of who tried, not their Telegram id

The rows live for fifteen minutes (the throttle's window), so the table is recreated empty
rather than converted: a hash cannot be made from the old ids without the running bot's key.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 15:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate(*, old: str, new: str, new_type: sa.types.TypeEngine[Any]) -> None:
    with op.batch_alter_table("invite_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invite_attempts_at"))
        batch_op.drop_index(batch_op.f(f"ix_invite_attempts_{old}"))
    op.drop_table("invite_attempts")
    op.create_table(
        "invite_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(new, new_type, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_attempts")),
    )
    with op.batch_alter_table("invite_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_invite_attempts_{new}"), [new], unique=False)
        batch_op.create_index(batch_op.f("ix_invite_attempts_at"), ["at"], unique=False)


def upgrade() -> None:
    _recreate(old="telegram_id", new="who", new_type=sa.String(length=64))


def downgrade() -> None:
    _recreate(old="who", new="telegram_id", new_type=sa.BigInteger())

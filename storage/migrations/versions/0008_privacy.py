"""privacy: a data key per referral, messages that show a referral's details, failed invite
attempts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=False),
        sa.Column("form_of", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_keys")),
        sa.UniqueConstraint("form_of", name=op.f("uq_data_keys_form_of")),
    )
    # Referrals sealed before this version keep key_id NULL and open with the programme key;
    # `lunchbot keys rotate` moves them to keys of their own.
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_referrals_key_id_data_keys"),
            "data_keys",
            ["key_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "detail_messages",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.id"],
            name=op.f("fk_detail_messages_referral_id_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "chat_id", "message_id", "referral_id", name=op.f("pk_detail_messages")
        ),
    )
    with op.batch_alter_table("detail_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_detail_messages_referral_id"), ["referral_id"], unique=False
        )
    op.create_table(
        "invite_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invite_attempts")),
    )
    with op.batch_alter_table("invite_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invite_attempts_telegram_id"), ["telegram_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invite_attempts_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invite_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invite_attempts_at"))
        batch_op.drop_index(batch_op.f("ix_invite_attempts_telegram_id"))
    op.drop_table("invite_attempts")
    with op.batch_alter_table("detail_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detail_messages_referral_id"))
    op.drop_table("detail_messages")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_referrals_key_id_data_keys"), type_="foreignkey")
        batch_op.drop_column("key_id")
    op.drop_table("data_keys")

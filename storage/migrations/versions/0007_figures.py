"""figures: why a session that began did not run

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The new status value "not_run" needs nothing here: statuses are plain strings.
    with op.batch_alter_table("lunch_sessions") as batch:
        batch.add_column(sa.Column("not_run_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    # A session that did not run would read as scheduled to the older code: say it was
    # cancelled, the nearest thing it knows, rather than count it as run.
    op.execute("UPDATE lunch_sessions SET status = 'cancelled' WHERE status = 'not_run'")
    with op.batch_alter_table("lunch_sessions") as batch:
        batch.drop_column("not_run_reason")

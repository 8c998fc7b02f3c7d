"""lists: every person's, location's and school's name folded for searching

A long list (10,000 people, hundreds of locations) is searched by the database: each name has
a key column holding it folded (case, accents and spacing ignored, storage.text.folded), which
a typed search, folded the same way, is matched against with LIKE. The keys of the rows there
already are filled in here; from now on the models keep them in step with the names.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.text import folded

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> its name column
NAMED = {"people": "display_name", "locations": "name", "schools": "name"}
BATCH = 1000


def upgrade() -> None:
    for table in NAMED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("name_key", sa.Text(), server_default="", nullable=False))
    connection = op.get_bind()
    for table, column in NAMED.items():
        rows = sa.table(table, sa.column("id", sa.Integer()), sa.column(column, sa.String()))
        keys = sa.table(table, sa.column("id", sa.Integer()), sa.column("name_key", sa.Text()))
        named = connection.execute(sa.select(rows.c.id, rows.c[column])).all()
        change = (
            sa.update(keys)
            .where(keys.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("key"))
        )
        for first in range(0, len(named), BATCH):
            chunk = named[first : first + BATCH]
            connection.execute(
                change, [{"row_id": row_id, "key": folded(name or "")} for row_id, name in chunk]
            )


def downgrade() -> None:
    for table in NAMED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("name_key")

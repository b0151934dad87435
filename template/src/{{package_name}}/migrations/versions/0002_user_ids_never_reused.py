"""Users' ids are never given again: on SQLite the users table gets AUTOINCREMENT.

Without it SQLite gives a new row the largest id plus one, which is the id of the newest user
if they were deleted; whatever still names that id (todos, tokens) would pass to the new user.
PostgreSQL's sequences never reuse an id, so nothing changes there, nor in a project without
users.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _recreate_users(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite" or "users" not in sa.inspect(bind).get_table_names():
        return
    # A copy of the table with its rows, constraints and the new option, then swapped in.
    with op.batch_alter_table(
        "users", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _recreate_users(autoincrement=True)


def downgrade() -> None:
    _recreate_users(autoincrement=False)

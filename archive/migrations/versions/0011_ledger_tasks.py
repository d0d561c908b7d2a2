"""ledger tasks: a consent event's line waits in the database until it is in the file

The copy of the consent ledger in the instance folder is what a restore replays, so an
erased piece never comes back. A line is queued in the event's own transaction and deleted
once it is on disk; one that could not be written is tried again.

Revision ID: 0011_ledger_tasks
Revises: 0010_withdrawn_guard
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_ledger_tasks"
down_revision = "0010_withdrawn_guard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_task")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("ledger_task")

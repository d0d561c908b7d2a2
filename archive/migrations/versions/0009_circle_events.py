"""circle events: who became or stopped being a facilitator, shown to the circle

Content-free: a circle, an enumerated event, the account it concerns, the account that acted
and its role, and the time.

Revision ID: 0009_circle_events
Revises: 0008
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_circle_events"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "circle_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
            name=op.f("fk_circle_event_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circle.id"],
            name=op.f("fk_circle_event_circle_id_circle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["account.id"],
            name=op.f("fk_circle_event_subject_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_event")),
    )
    with op.batch_alter_table("circle_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_circle_event_circle_id"), ["circle_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("circle_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_circle_event_circle_id"))

    op.drop_table("circle_event")

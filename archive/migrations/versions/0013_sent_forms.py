"""sent forms: a form sent again leads to the first send's answer

Holds a SHA-256 of each form's one-time token, the account that sent it, where its answer is
shown, and (for 30 minutes) the withdrawal code that page shows, sealed with the token.

Revision ID: 0013_sent_forms
Revises: 0012_password_resets
Create Date: 2026-12-10 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sent_forms"
down_revision = "0012_password_resets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sent_form",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=300), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_sent_form_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sent_form")),
    )
    with op.batch_alter_table("sent_form", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_form_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sent_form_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sent_form", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_form_created_at"))
        batch_op.drop_index(batch_op.f("ix_sent_form_account_id"))
    op.drop_table("sent_form")

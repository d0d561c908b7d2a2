"""a withdrawn item takes nothing: the database refuses new parts for a tombstone

Triggers refuse a new revision, tag, media row, consent or collection entry whose item was
withdrawn: a second line behind the item lock every write takes (``withdraw.hold_active``).
The statements come from ``archive.db.withdrawn_item_guards``, which also makes them for
databases created from the models; the tables they guard are the ones of this revision.

Revision ID: 0010_withdrawn_guard
Revises: 0009_circle_events
Create Date: 2026-12-07 19:40:00
"""

from alembic import op

from archive.db import drop_withdrawn_item_guards, withdrawn_item_guards

revision = "0010_withdrawn_guard"
down_revision = "0009_circle_events"
branch_labels = None
depends_on = None

#: the item's parts as they were at this migration (0014 put tags on revisions): frozen here,
#: since a migration must keep making what it made when it was written
ITEM_PARTS = ("revision", "item_tag", "media_asset", "consent", "entry")


def upgrade() -> None:
    for statement in withdrawn_item_guards(op.get_bind().dialect.name, ITEM_PARTS):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_withdrawn_item_guards(op.get_bind().dialect.name, ITEM_PARTS):
        op.execute(statement)

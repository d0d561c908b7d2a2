"""what people wrote stays out of PostgreSQL's planner statistics

ANALYZE copies sample values into pg_statistic and leaves them there once a table is empty,
so an erased title could outlive its row. A statistics target of 0 keeps these columns out.
SQLite keeps no such samples: nothing to do there.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 04:40:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: the content columns as they were at this revision, frozen on purpose: a migration must keep
#: meaning what it meant when written, and the live list (``archive.db.CONTENT_COLUMNS``) names
#: tables and columns that came later (migration 0014) and that this one never saw
CONTENT_COLUMNS = {
    "revision": ("title", "body", "tags_json", "alt_text", "note"),
    "item_tag": ("tag",),
    "media_asset": ("derivatives_json",),
    "consent": ("pseudonym",),
    "contributor": ("pseudonym",),
    "entry": ("note",),
}


def _set_target(target: int) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in CONTENT_COLUMNS.items():
        for column in columns:
            op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STATISTICS {target}')


def upgrade() -> None:
    _set_target(0)


def downgrade() -> None:
    _set_target(-1)  # back to the server's default target

"""tag concepts: a circle's tags that mean the same, joined under one label per language

``tag_concept`` holds a circle's concepts and the labels its facilitators wrote;
``concept_tag`` the tag words each joins (a tag in at most one concept of a circle), kept
out of PostgreSQL's planner statistics like the other words people wrote. The circle's
events learn three more: tags joined, relabelled, split (``ck_circle_event_event`` made
again; undone, the events of this kind go first).

Revision ID: 0015_tag_concepts
Revises: 0014_database_checks
Create Date: 2026-12-08 01:00:00
"""

import sqlalchemy as sa
from alembic import op

from archive.db import one_of_sql

revision = "0015_tag_concepts"
down_revision = "0014_database_checks"
branch_labels = None
depends_on = None

# Frozen, as a migration must keep meaning what it meant when written (the live list is
# ``archive.models.CIRCLE_EVENTS``)
EVENTS_BEFORE = (
    "facilitator_added",
    "facilitator_removed",
    "admin_joined",
    "admin_left",
    "password_help",
)
EVENTS_ADDED = ("tags_joined", "tags_relabelled", "tags_split")


def upgrade() -> None:
    op.create_table(
        "tag_concept",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.Column("label_en", sa.String(length=40), nullable=False),
        sa.Column("label_hi", sa.String(length=40), nullable=False),
        sa.Column("label_mr", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circle.id"],
            name=op.f("fk_tag_concept_circle_id_circle"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag_concept")),
    )
    with op.batch_alter_table("tag_concept") as batch:
        batch.create_index(batch.f("ix_tag_concept_circle_id"), ["circle_id"], unique=False)
    op.create_table(
        "concept_tag",
        sa.Column("concept_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.Column("circle_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["circle_id"],
            ["circle.id"],
            name=op.f("fk_concept_tag_circle_id_circle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["concept_id"],
            ["tag_concept.id"],
            name=op.f("fk_concept_tag_concept_id_tag_concept"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("concept_id", "tag", name=op.f("pk_concept_tag")),
        sa.UniqueConstraint("circle_id", "tag", name=op.f("uq_concept_tag_circle_id")),
    )
    with op.batch_alter_table("concept_tag") as batch:
        batch.create_index("ix_concept_tag_tag", ["tag"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute('ALTER TABLE "concept_tag" ALTER COLUMN "tag" SET STATISTICS 0')
    _events_allowed(EVENTS_BEFORE + EVENTS_ADDED)


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM circle_event WHERE event IN :added").bindparams(
            sa.bindparam("added", value=list(EVENTS_ADDED), expanding=True)
        )
    )
    _events_allowed(EVENTS_BEFORE)
    with op.batch_alter_table("concept_tag") as batch:
        batch.drop_index("ix_concept_tag_tag")
    op.drop_table("concept_tag")
    with op.batch_alter_table("tag_concept") as batch:
        batch.drop_index(batch.f("ix_tag_concept_circle_id"))
    op.drop_table("tag_concept")


def _events_allowed(events: tuple[str, ...]) -> None:
    with op.batch_alter_table("circle_event") as batch:
        batch.drop_constraint(batch.f("ck_circle_event_event"), type_="check")
        batch.create_check_constraint(batch.f("ck_circle_event_event"), one_of_sql("event", events))

"""the database checks what the code checks; tags kept once, on revisions; JSON as JSON

- A named CHECK (``ck_<table>_<column>``) on every enumerated column, with the allowed
  values of the constants the operations check against (``archive.models``), and two on
  ``item``: a live item (active or proposed) has its kind, circle and contributor; a
  tombstone keeps none of them, nor a revision.
- The JSON kept in ``Text`` columns becomes ``JSON``, named without ``_json``: the values
  convert in place (an empty one becomes its empty list or object).
- Tags are kept once: each revision's own tags, one row each in their order, in
  ``revision_tag`` (a restore brings a revision's tags back with it); an item's tags now
  are its current revision's. ``revision.tags_json`` and ``item_tag`` go; every revision's
  tags move over first.
- PostgreSQL: the new content columns are kept out of the planner's statistics, like those
  of migration 0007.

SQLite changes a table's constraints and column types by copying it (batch mode): this runs
with foreign keys off (``archive.migrate.migrating``; with them on, dropping the old table
would first delete its rows and cascade into the tables pointing at it), and the triggers of
migration 0010 are dropped first and made again at the end, since they go with their tables.

Revision ID: 0014_database_checks
Revises: 0013_sent_forms
Create Date: 2026-12-07 22:30:00
"""

import json
from collections.abc import Mapping

import sqlalchemy as sa
from alembic import op

from archive.db import drop_withdrawn_item_guards, one_of_sql, withdrawn_item_guards
from archive.models import (
    ATTRIBUTIONS,
    AUDIENCES,
    CIRCLE_EVENTS,
    CIRCLE_ROLES,
    CONSENT_ACTORS,
    CONSENT_EVENTS,
    EVENT_ACTOR_ROLES,
    ITEM_STATES,
    KINDS,
    LANGUAGES,
    LOCALES,
    METHODS,
    PURGE_KINDS,
    ROLES,
    STATES,
)
from archive.models.items import LIVE_ITEM_IS_WHOLE, TOMBSTONE_KEEPS_NOTHING

revision = "0014_database_checks"
down_revision = "0013_sent_forms"
branch_labels = None
depends_on = None

#: table -> (column, allowed values): the same constants the operations and models use, so
#: the database can never take a value the code refuses, nor refuse one it writes. A change
#: to one of them needs a migration of its own that drops and makes that check again (a
#: database made by this one earlier keeps the values it was made with).
ENUMERATIONS = {
    "account": (("role", ROLES), ("locale", LOCALES)),
    "membership": (("role", CIRCLE_ROLES),),
    "invite": (("role", CIRCLE_ROLES),),
    "circle_event": (("event", CIRCLE_EVENTS), ("actor_role", EVENT_ACTOR_ROLES)),
    "item": (("kind", KINDS), ("state", ITEM_STATES)),
    "revision": (("language", LANGUAGES),),
    "consent": (
        ("audience", AUDIENCES),
        ("attribution", ATTRIBUTIONS),
        ("method", METHODS),
        ("language", LANGUAGES),
    ),
    "consent_event": (("event", CONSENT_EVENTS), ("actor_role", CONSENT_ACTORS)),
    "collection": (("state", STATES),),
    "purge_task": (("kind", PURGE_KINDS),),
}
ITEM_RULES = (
    ("live_item_is_whole", LIVE_ITEM_IS_WHOLE),
    ("tombstone_keeps_nothing", TOMBSTONE_KEEPS_NOTHING),
)
#: table -> (Text column, its JSON name, the empty value)
JSON_COLUMNS = {
    "media_asset": (("derivatives_json", "derivatives", "{}"),),
    "consent": (("content_notes_json", "content_notes", "[]"),),
    "consent_event": (("change_json", "change", "{}"),),
    "purge_task": (("payload_json", "payload", "{}"),),
    "ledger_task": (("line_json", "line", "{}"),),
}
#: tables whose ids SQLite must never reuse (migration 0006; ``ledger_task``: 0011)
AUTOINCREMENT = ("purge_task", "ledger_task")

# Frozen, as a migration must keep meaning what it meant when written (the live lists are
# ``archive.db.ITEM_PARTS`` and ``archive.db.CONTENT_COLUMNS``):
#: the tables migration 0010 guards, and the ones guarded from this revision on
PARTS_BEFORE = ("revision", "item_tag", "media_asset", "consent", "entry")
PARTS_AFTER = ("revision", "media_asset", "consent", "entry")
#: the content columns this revision adds or renames, and the ones its downgrade brings back
CONTENT_AFTER = {"revision_tag": ("tag",), "media_asset": ("derivatives",)}
CONTENT_BEFORE = {
    "revision": ("tags_json",),
    "item_tag": ("tag",),
    "media_asset": ("derivatives_json",),
}


def upgrade() -> None:
    dialect = _dialect()
    _drop_guards(dialect, PARTS_BEFORE)
    _tags_onto_revisions()
    _tombstones_emptied()
    for table, columns in JSON_COLUMNS.items():
        for old, _new, empty in columns:
            op.execute(
                sa.text(
                    f'UPDATE "{table}" SET "{old}" = :empty WHERE "{old}" IS NULL OR "{old}" = \'\''
                ).bindparams(empty=empty)
            )
    for table in dict.fromkeys([*ENUMERATIONS, *JSON_COLUMNS, "revision"]):
        with _batch(table) as batch:
            if table == "revision":
                batch.drop_column("tags_json")
            for old, new, _empty in JSON_COLUMNS.get(table, ()):
                batch.alter_column(
                    old,
                    existing_type=sa.Text(),
                    type_=sa.JSON(),
                    existing_nullable=False,
                    postgresql_using=f'"{old}"::json',
                )
                batch.alter_column(
                    old, new_column_name=new, existing_type=sa.JSON(), existing_nullable=False
                )
            for name, condition in _checks(table):
                batch.create_check_constraint(batch.f(name), condition)
    _make_guards(dialect, PARTS_AFTER)
    _out_of_statistics(dialect, CONTENT_AFTER)


def downgrade() -> None:
    dialect = _dialect()
    _drop_guards(dialect, PARTS_AFTER)
    for table in dict.fromkeys([*ENUMERATIONS, *JSON_COLUMNS, "revision"]):
        with _batch(table) as batch:
            for name, _condition in _checks(table):
                batch.drop_constraint(batch.f(name), type_="check")
            for old, new, _empty in JSON_COLUMNS.get(table, ()):
                batch.alter_column(
                    new,
                    existing_type=sa.JSON(),
                    type_=sa.Text(),
                    existing_nullable=False,
                    postgresql_using=f'"{new}"::text',
                )
                batch.alter_column(
                    new, new_column_name=old, existing_type=sa.Text(), existing_nullable=False
                )
            if table == "revision":
                batch.add_column(
                    sa.Column("tags_json", sa.Text(), nullable=False, server_default="[]")
                )
        if table == "revision":
            with _batch(table) as batch:
                batch.alter_column(
                    "tags_json",
                    existing_type=sa.Text(),
                    existing_nullable=False,
                    server_default=None,
                )
    _tags_back_beside_items()
    _make_guards(dialect, PARTS_BEFORE)
    _out_of_statistics(dialect, CONTENT_BEFORE)


def _dialect() -> str:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite" and op.get_bind().exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "SQLite copies tables in this migration: run it with foreign keys "
            "off (archive.migrate.upgrade does), or dropping a table would "
            "cascade into the tables pointing at it"
        )
    return dialect


def _batch(table: str):
    kwargs = {"sqlite_autoincrement": True} if table in AUTOINCREMENT else {}
    return op.batch_alter_table(table, table_kwargs=kwargs)


def _checks(table: str) -> list[tuple[str, str]]:
    checks = [
        (f"ck_{table}_{column}", one_of_sql(column, values))
        for column, values in ENUMERATIONS.get(table, ())
    ]
    if table == "item":
        checks += [(f"ck_item_{name}", condition) for name, condition in ITEM_RULES]
    return checks


def _drop_guards(dialect: str, tables: tuple[str, ...]) -> None:
    """Only SQLite loses triggers when it copies a table; PostgreSQL keeps them."""
    if dialect == "sqlite":
        for statement in drop_withdrawn_item_guards(dialect, tables):
            op.execute(statement)


def _make_guards(dialect: str, tables: tuple[str, ...]) -> None:
    for statement in withdrawn_item_guards(dialect, tables):
        op.execute(statement)


def _out_of_statistics(dialect: str, columns: Mapping[str, tuple[str, ...]]) -> None:
    if dialect != "postgresql":
        return
    for table, names in columns.items():
        for column in names:
            op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STATISTICS 0')


def _tombstones_emptied() -> None:
    """A tombstone has never kept these (``withdraw._keep_only_the_tombstone``); made sure
    of before the database is told to refuse them."""
    op.execute(
        "UPDATE item SET kind = NULL, circle_id = NULL, contributor_id = NULL, "
        "current_revision_id = NULL WHERE state = 'withdrawn'"
    )


def _tags_onto_revisions() -> None:
    op.create_table(
        "revision_tag",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["revision.id"],
            name=op.f("fk_revision_tag_revision_id_revision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("revision_id", "tag", name=op.f("pk_revision_tag")),
    )
    with op.batch_alter_table("revision_tag") as batch:
        batch.create_index("ix_revision_tag_tag", ["tag"], unique=False)
    bind = op.get_bind()
    rows = []
    for revision_id, tags_json in bind.execute(sa.text("SELECT id, tags_json FROM revision")):
        tags = list(dict.fromkeys(json.loads(tags_json or "[]")))
        rows += [
            {"revision_id": revision_id, "tag": tag, "position": position}
            for position, tag in enumerate(tags)
        ]
    if rows:
        bind.execute(
            sa.text(
                "INSERT INTO revision_tag (revision_id, tag, position) "
                "VALUES (:revision_id, :tag, :position)"
            ),
            rows,
        )
    with op.batch_alter_table("item_tag") as batch:
        batch.drop_index("ix_item_tag_tag")
    op.drop_table("item_tag")


def _tags_back_beside_items() -> None:
    """Each revision's tags back into ``revision.tags_json``, and the current revisions'
    into ``item_tag``; then ``revision_tag`` goes."""
    bind = op.get_bind()
    tags: dict[int, list[str]] = {}
    for revision_id, tag in bind.execute(
        sa.text("SELECT revision_id, tag FROM revision_tag ORDER BY revision_id, position")
    ):
        tags.setdefault(revision_id, []).append(tag)
    if tags:
        bind.execute(
            sa.text("UPDATE revision SET tags_json = :tags WHERE id = :id"),
            [
                {"id": revision_id, "tags": json.dumps(kept, ensure_ascii=False)}
                for revision_id, kept in tags.items()
            ],
        )
    op.create_table(
        "item_tag",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_item_tag_item_id_item"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "tag", name=op.f("pk_item_tag")),
    )
    with op.batch_alter_table("item_tag") as batch:
        batch.create_index("ix_item_tag_tag", ["tag"], unique=False)
    op.execute(
        "INSERT INTO item_tag (item_id, tag) SELECT item.id, revision_tag.tag "
        "FROM item JOIN revision_tag ON revision_tag.revision_id = "
        "item.current_revision_id"
    )
    with op.batch_alter_table("revision_tag") as batch:
        batch.drop_index("ix_revision_tag_tag")
    op.drop_table("revision_tag")

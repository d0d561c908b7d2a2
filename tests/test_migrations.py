"""Migrations build the same schema the models describe, from an empty database."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from archive import create_app, migrate
from archive.db import db
from tests.conftest import config_for_tests
from tests.services.postgres import empty_database_url

pytestmark = pytest.mark.both_databases


@pytest.fixture
def empty_app(tmp_path):
    """An app whose database has no tables at all (no create_all)."""
    app = create_app(config_for_tests(tmp_path, DATABASE_URL=empty_database_url(tmp_path)))
    with app.app_context():
        yield app
        db.session.remove()


def _head() -> set[str]:
    return set(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())


def _differences(metadata: sa.MetaData) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, metadata)


def test_database_starts_empty(empty_app):
    assert sa.inspect(db.engine).get_table_names() == []


def test_upgrade_creates_every_model_table(empty_app):
    migrate.upgrade()
    tables = set(sa.inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert migrate.current_heads() == _head()


def test_migrations_match_the_models(empty_app):
    """A model change without its migration fails here."""
    migrate.upgrade()
    assert _differences(db.metadata) == []


def test_the_comparison_notices_a_missing_migration(empty_app):
    """The check above can fail: a table or column the migrations lack is reported."""
    migrate.upgrade()
    changed = sa.MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(changed)
    sa.Table("not_migrated", changed, sa.Column("id", sa.Integer, primary_key=True))
    changed.tables["account"].append_column(sa.Column("favourite_colour", sa.String(20)))

    differences = _differences(changed)

    kinds = {
        (diff[0], getattr(diff[-1], "name", None)) if isinstance(diff, tuple) else diff
        for diff in differences
    }
    assert ("add_table", "not_migrated") in kinds
    assert ("add_column", "favourite_colour") in kinds


def test_upgrade_twice_is_harmless(empty_app):
    migrate.upgrade()
    db.session.execute(
        sa.text("INSERT INTO site_flag (name, set_at) VALUES ('kept', CURRENT_TIMESTAMP)")
    )
    db.session.commit()

    migrate.upgrade()

    assert migrate.current_heads() == _head()
    assert db.session.scalar(sa.text("SELECT name FROM site_flag")) == "kept"
    assert _differences(db.metadata) == []


def test_every_migration_can_be_undone_and_redone(empty_app):
    migrate.upgrade()
    migrate.downgrade("base")
    assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade()
    assert _differences(db.metadata) == []


# --- 0014 on a database holding rows ------------------------------------------------------

BEFORE_0014 = "0013_sent_forms"
#: rows as a site made them before 0014: two revisions with their tags, the tags of the
#: current one beside the item, JSON in text, a tombstone, and rows hanging from accounts,
#: circles and collections by ON DELETE CASCADE (which a table copied with foreign keys on
#: would take with it)
ROWS_BEFORE_0014 = (
    "INSERT INTO account (id, username, username_key, password_hash, role, locale, "
    "session_version, active, created_at) VALUES (1, 'asha', 'asha', 'x', 'facilitator', 'hi', "
    "1, :yes, :now)",
    "INSERT INTO api_token (id, account_id, secret_hash, label, created_at) "
    "VALUES (1, 1, 's', 'phone', :now)",
    "INSERT INTO circle (id, slug, name, description, languages, created_at) "
    "VALUES (1, 'home', 'Home', '', 'hi en', :now)",
    "INSERT INTO membership (id, account_id, circle_id, role, joined_at) "
    "VALUES (1, 1, 1, 'facilitator', :now)",
    "INSERT INTO contributor (id, account_id, circle_id, created_at) VALUES (1, 1, 1, :now)",
    "INSERT INTO item (id, public_id, kind, circle_id, contributor_id, state, created_at, "
    "updated_at) VALUES (1, 'kept', 'poem', 1, 1, 'active', :now, :now)",
    "INSERT INTO revision (id, item_id, number, title, body, language, tags_json, alt_text, "
    "note, created_at) VALUES (1, 1, 1, 'first', 'words', 'hi', '[\"नींद\", \"hope\"]', '', '', "
    ":now)",
    "INSERT INTO revision (id, item_id, number, title, body, language, tags_json, alt_text, "
    "note, created_at) VALUES (2, 1, 2, 'second', 'words', 'hi', '[\"उम्मीद\"]', '', '', :now)",
    "UPDATE item SET current_revision_id = 2 WHERE id = 1",
    "INSERT INTO item_tag (item_id, tag) VALUES (1, 'उम्मीद')",
    "INSERT INTO media_asset (id, public_id, item_id, derivatives_json, width, height, "
    'created_at) VALUES (1, \'m1\', 1, \'{"display": {"key": "k1"}}\', 10, 20, :now)',
    "INSERT INTO consent (id, item_id, audience, attribution, allow_collections, allow_embeds, "
    "allow_packs, content_notes_json, method, receipt_id, withdrawal_code_hash, language, "
    "created_at, updated_at) VALUES (1, 1, 'circle', 'pseudonym', :yes, :no, :no, "
    "'[\"grief\"]', 'self', 'r1', 'h1', 'hi', :now, :now)",
    "INSERT INTO item (id, public_id, state, created_at, updated_at, withdrawn_at) "
    "VALUES (2, 'gone', 'withdrawn', :now, :now, :now)",
    "INSERT INTO consent_event (id, item_public_id, event, change_json, actor_role, created_at) "
    "VALUES (1, 'gone', 'withdrawn', '{\"audience\": [\"public\", null]}', 'code', :now)",
    "INSERT INTO consent_event (id, item_public_id, event, change_json, actor_role, created_at) "
    "VALUES (2, 'kept', 'granted', '', 'contributor', :now)",
    "INSERT INTO purge_task (id, kind, payload_json, attempts, created_at) "
    "VALUES (7, 'media', '{\"keys\": [\"k0\"]}', 0, :now)",
    'INSERT INTO ledger_task (id, line_json, created_at) VALUES (3, \'{"event": "withdrawn"}\', '
    ":now)",
    "INSERT INTO collection (id, slug, title, circle_id, state, removed_unseen, created_at, "
    "updated_at) VALUES (1, 'ours', 'Ours', 1, 'circle', 0, :now, :now)",
    "INSERT INTO entry (id, collection_id, item_id, position, note, added_at) "
    "VALUES (1, 1, 1, 1, '', :now)",
)
UNTOUCHED = (
    "account",
    "api_token",
    "circle",
    "membership",
    "contributor",
    "item",
    "revision",
    "media_asset",
    "consent",
    "consent_event",
    "purge_task",
    "ledger_task",
    "collection",
    "entry",
)


def _rows(query: str, **params) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(sa.text(query), params)]


def _counts() -> dict[str, int]:
    return {
        table: db.session.scalar(sa.text(f'SELECT count(*) FROM "{table}"')) for table in UNTOUCHED
    }


@pytest.fixture
def before_0014(empty_app):
    from datetime import datetime

    migrate.upgrade(BEFORE_0014)
    for statement in ROWS_BEFORE_0014:
        db.session.execute(
            sa.text(statement), {"now": datetime(2026, 12, 7), "yes": True, "no": False}
        )
    db.session.commit()
    counts = _counts()
    db.session.remove()  # a reading transaction left open would hold PostgreSQL's ALTERs
    return counts


def test_0014_keeps_every_row_and_moves_the_tags_onto_revisions(before_0014):
    migrate.upgrade()
    db.session.remove()

    assert _counts() == before_0014
    assert "item_tag" not in sa.inspect(db.engine).get_table_names()
    assert _rows(
        "SELECT revision_id, position, tag FROM revision_tag ORDER BY revision_id, position"
    ) == [(1, 0, "नींद"), (1, 1, "hope"), (2, 0, "उम्मीद")]
    from archive.models import ConsentEvent, LedgerTask, MediaAsset, PurgeTask, Revision

    assert [r.tags for r in db.session.scalars(sa.select(Revision).order_by(Revision.id))] == [
        ["नींद", "hope"],
        ["उम्मीद"],
    ]
    assert db.session.get(MediaAsset, 1).derivatives == {"display": {"key": "k1"}}
    assert db.session.get(Revision, 2).item_id == 1
    assert [
        e.change for e in db.session.scalars(sa.select(ConsentEvent).order_by(ConsentEvent.id))
    ] == [{"audience": ["public", None]}, {}]
    assert db.session.get(PurgeTask, 7).payload == {"keys": ["k0"]}
    assert db.session.get(LedgerTask, 3).line == {"event": "withdrawn"}
    assert _rows("SELECT content_notes FROM consent")[0][0] in ('["grief"]', ["grief"])
    # the withdrawn-item guards are back after the tables were copied
    with pytest.raises(sa.exc.DBAPIError, match="withdrawn"):
        db.session.execute(
            sa.text(
                "INSERT INTO revision (item_id, number, title, body, language, alt_text, note, "
                "created_at) VALUES (2, 1, 't', '', 'en', '', '', CURRENT_TIMESTAMP)"
            )
        )
    db.session.rollback()
    if db.engine.dialect.name == "sqlite":  # ids never reused (0006, 0011) survive the copy
        made = dict(_rows("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        assert "AUTOINCREMENT" in made["purge_task"] and "AUTOINCREMENT" in made["ledger_task"]
        assert _rows("PRAGMA foreign_keys") == [(1,)]


def test_0014_undone_brings_back_the_tags_beside_items_and_the_text(before_0014):
    migrate.upgrade()
    migrate.downgrade(BEFORE_0014)
    db.session.remove()

    assert _counts() == before_0014
    assert "revision_tag" not in sa.inspect(db.engine).get_table_names()
    assert [
        (i, json.loads(t)) for i, t in _rows("SELECT id, tags_json FROM revision ORDER BY id")
    ] == [(1, ["नींद", "hope"]), (2, ["उम्मीद"])]
    assert _rows("SELECT item_id, tag FROM item_tag") == [(1, "उम्मीद")]
    assert json.loads(_rows("SELECT derivatives_json FROM media_asset")[0][0]) == {
        "display": {"key": "k1"}
    }
    assert json.loads(_rows("SELECT content_notes_json FROM consent")[0][0]) == ["grief"]
    assert json.loads(_rows("SELECT payload_json FROM purge_task")[0][0]) == {"keys": ["k0"]}
    # no check is left: a value 0014 refuses is taken again
    db.session.execute(sa.text("UPDATE item SET kind = 'zz' WHERE id = 1"))
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="withdrawn"):
        db.session.execute(sa.text("INSERT INTO item_tag (item_id, tag) VALUES (2, 'back')"))
    db.session.rollback()
    migrate.upgrade()
    assert _differences(db.metadata) == []


def test_a_backup_made_before_0014_is_restored_into_todays_shape(before_0014, tmp_path):
    if db.engine.dialect.name == "postgresql":
        pytest.skip(
            "pg_restore --clean drops only what the dump holds, and revision_tag "
            "points at the revision table it would replace: an older dump is "
            "loaded into an empty database and migrated there instead"
        )
    from archive import backup

    folder = tmp_path / "older-backup"
    folder.mkdir()
    (folder / "media").mkdir()
    backup._dump(folder / backup.DATABASE_FILES[db.engine.dialect.name])
    migrate.upgrade()

    backup.restore(folder)

    db.session.remove()
    assert migrate.current_heads() == _head()
    done = {"purge_task": 0}  # the restore carried out the waiting purge
    assert _counts() == {**before_0014, **done}
    from archive.models import Revision

    assert db.session.get(Revision, 2).tags == ["उम्मीद"]


def test_0014_keeps_the_new_content_columns_out_of_statistics(empty_app):
    """What people wrote stays out of PostgreSQL's planner statistics (see 0007): the tag
    and derivative columns 0014 makes, as every column the models name as content."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL samples column values into its statistics")
    from archive.db import CONTENT_COLUMNS

    migrate.upgrade()
    targets = {
        (table, column): db.session.scalar(
            sa.text(
                "SELECT attstattarget FROM pg_attribute WHERE attrelid = CAST(:table AS regclass) "
                "AND attname = :column"
            ),
            {"table": table, "column": column},
        )
        for table, columns in CONTENT_COLUMNS.items()
        for column in columns
    }
    assert targets == {key: 0 for key in targets}


def test_a_run_of_migrations_that_fails_leaves_nothing_behind(empty_app):
    """One transaction for the run, tables made before the first row written included; and
    SQLite's foreign keys are on again afterwards."""
    with pytest.raises(RuntimeError, match="stopped"):
        with migrate.migrating() as connection:
            connection.exec_driver_sql("CREATE TABLE half_done (id INTEGER)")
            raise RuntimeError("stopped")

    assert "half_done" not in sa.inspect(db.engine).get_table_names()
    if db.engine.dialect.name == "sqlite":
        assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1


# --- 0016 renders the revisions already saved -----------------------------------------------

POEM_0016 = "नदी *याद* रखती है\nहर नाम\n\nदूसरा <script>x()</script>छंद"


def test_0016_renders_every_saved_revision_once_and_undoes_cleanly(before_0014):
    """Revisions saved before 0016 get the HTML, excerpt and description a save makes today
    (a poem's lines kept; the alt text describes a picture without words); undone, the
    columns go and the guard against words for a withdrawn item stays."""
    from archive.text import rendered

    migrate.upgrade("0015_tag_concepts")
    for number, body, alt_text in ((3, POEM_0016, ""), (4, "", "A *red* wall")):
        db.session.execute(
            sa.text(
                "INSERT INTO revision (id, item_id, number, title, body, language, alt_text, "
                "note, created_at) VALUES (:number, 1, :number, 't', :body, 'hi', :alt, '', "
                "CURRENT_TIMESTAMP)"
            ),
            {"number": number, "body": body, "alt": alt_text},
        )
    db.session.commit()
    db.session.remove()

    migrate.upgrade()
    found = _rows("SELECT body, alt_text, html, excerpt, description FROM revision ORDER BY number")
    for body, alt_text, *kept in found:
        made = rendered(body, alt_text)
        assert tuple(kept) == (made.html, made.excerpt, made.description)
    assert found[2][2:] == (
        "<p>नदी <em>याद</em> रखती है<br>\nहर नाम</p>\n<p>दूसरा छंद</p>",
        "नदी याद रखती है\nहर नाम\nदूसरा छंद",
        "नदी याद रखती है / हर नाम / दूसरा छंद",
    )
    assert found[3][2:] == ("", "", "A red wall")
    db.session.remove()

    migrate.downgrade("0015_tag_concepts")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("revision")}
    assert columns.isdisjoint({"html", "excerpt", "description"})
    with pytest.raises(sa.exc.DBAPIError, match="withdrawn"):
        db.session.execute(
            sa.text(
                "INSERT INTO revision (item_id, number, title, body, language, alt_text, note, "
                "created_at) VALUES (2, 1, 't', '', 'en', '', '', CURRENT_TIMESTAMP)"
            )
        )
    db.session.rollback()

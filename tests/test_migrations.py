"""Migrations build the same schema the models describe, from an empty database."""
from __future__ import annotations

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
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "render_as_batch": True})
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

    kinds = {(diff[0], getattr(diff[-1], "name", None)) if isinstance(diff, tuple) else diff
             for diff in differences}
    assert ("add_table", "not_migrated") in kinds
    assert ("add_column", "favourite_colour") in kinds


def test_upgrade_twice_is_harmless(empty_app):
    migrate.upgrade()
    db.session.execute(sa.text(
        "INSERT INTO site_flag (name, set_at) VALUES ('kept', CURRENT_TIMESTAMP)"))
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

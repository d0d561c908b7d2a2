"""Schema migrations with Alembic, run from inside the application (no alembic.ini)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from archive.db import db

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(revision: str = "head") -> None:
    """Bring the database of the current app to ``revision``."""
    with migrating() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(revision: str) -> None:
    """Take the database of the current app back to ``revision``."""
    with migrating() as connection:
        command.downgrade(alembic_config(connection), revision)


@contextmanager
def migrating(engine=None) -> Iterator[Connection]:
    """One transaction for a run of migrations; on SQLite with foreign keys off.

    SQLite changes a table's constraints or column types by copying it into a new table and
    dropping the old one, and with foreign keys on, dropping a table first deletes its rows
    — with every ``ON DELETE CASCADE`` of the tables pointing at it (an account's
    memberships, a collection's entries). Foreign keys can only be turned off outside a
    transaction, so before it begins; at its end ``PRAGMA foreign_key_check`` must find
    nothing, or the whole run is rolled back. (SQLite's driver would begin its transaction
    only at the first row written, leaving the tables made before it committed on their own:
    the run begins it itself.)"""
    engine = engine or db.engine
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _pragma(connection, "foreign_keys=OFF")
        try:
            with connection.begin():
                if sqlite:
                    connection.exec_driver_sql("BEGIN")
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(
                            f"migrations left {len(broken)} row(s) pointing at "
                            "nothing; nothing was changed"
                        )
        finally:
            if sqlite:
                _pragma(connection, "foreign_keys=ON")


def _pragma(connection: Connection, pragma: str) -> None:
    connection.exec_driver_sql(f"PRAGMA {pragma}")
    connection.commit()  # ends SQLAlchemy's own transaction; SQLite began none for a PRAGMA


def revision(message: str, autogenerate: bool = True) -> None:
    with db.engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=autogenerate)


def current_heads() -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())

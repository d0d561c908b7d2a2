"""Schema migrations with Alembic, run from inside the application (no alembic.ini)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

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
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def revision(message: str, autogenerate: bool = True) -> None:
    with db.engine.begin() as connection:
        command.revision(alembic_config(connection), message=message,
                         autogenerate=autogenerate)


def current_heads() -> set[str]:
    from alembic.runtime.migration import MigrationContext
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())

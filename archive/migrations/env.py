"""Alembic environment: the URL and metadata come from the archive application itself."""

from __future__ import annotations

from alembic import context

from archive.db import db
from archive.migrate import migrating


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=db.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with migrating(db.engines[None]) as fresh:
        _run(fresh)

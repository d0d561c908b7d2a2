"""Work that must follow a committed change even if the process dies first: purges, index
updates, copies of ledger lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.db import Model, one_of, utcnow

#: what a purge removes after an erasure: the files of its artwork, the database's old pages,
#: the cached offline packs that held it
PURGE_KINDS = ("media", "database", "packs")


class PurgeTask(Model):
    """Queued in the same transaction as an erasure; done after commit, retried until done.
    The payload holds only random storage keys and public ids, never content."""

    #: ids never reused, so a worker finishing a task can never delete a newer one
    __table_args__ = (one_of("kind", PURGE_KINDS), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_tried_at: Mapped[Optional[datetime]]


class IndexTask(Model):
    """ "Bring this item's index entry in line with the database", written in the same
    transaction as the change and applied after commit. Holds only the public id."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    item_public_id: Mapped[str] = mapped_column(String(24), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerTask(Model):
    """A consent ledger event's line, waiting to be copied to the file on disk
    (`archive.ledger_file`): written in the event's own transaction, deleted once the line
    is on disk. Holds only what the ledger holds: ids, enumerated values and times."""

    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    line: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

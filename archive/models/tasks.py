"""Work that must follow a committed change even if the process dies first: purges, index
updates, copies of ledger lines."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.db import Model, utcnow


class PurgeTask(Model):
    """Queued in the same transaction as an erasure; done after commit, retried until done.
    The payload holds only random storage keys and public ids, never content."""
    #: ids never reused, so a worker finishing a task can never delete a newer one
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_tried_at: Mapped[Optional[datetime]]

    @property
    def payload(self) -> dict:
        return json.loads(self.payload_json or "{}")


class IndexTask(Model):
    """"Bring this item's index entry in line with the database", written in the same
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
    line_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

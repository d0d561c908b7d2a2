"""A second, append-only copy of the consent ledger in the instance folder.

A database restored from an older backup has not seen later withdrawals; this file has, so
``restore`` replays it and an erased item never comes back. It holds the same content-free
facts as the ``ConsentEvent`` table, one JSON object a line.

A line is not written by the request: `queue` keeps it as a ``LedgerTask`` in the event's
own transaction, and `write_pending` (the background thread after commit, each process's
thread when it starts, ``flask setup`` and ``flask purge``) appends it, fsyncs and only then
forgets the task. A line that could not be written (a full disk) is tried again until it
is; one written twice (a crash between the two steps) changes nothing on replay.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select

from archive import background
from archive.db import db
from archive.models import ConsentEvent, LedgerTask

#: lines appended at a time
BATCH = 1000


def path() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "consent-ledger.jsonl"


def as_line(event: ConsentEvent) -> dict:
    return {
        "item": event.item_public_id,
        "event": event.event,
        "change": event.change,
        "actor_role": event.actor_role,
        "at": event.created_at.isoformat(),
    }


def append(lines: list[dict]) -> None:
    """Append and fsync: once the database said yes, the file must not forget."""
    append_to(path(), lines)


def append_to(target: Path, lines: list[dict]) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read(source: Path | None = None) -> list[dict]:
    source = source or path()
    if not source.exists():
        return []
    return [
        json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def queue(line: dict) -> None:
    """Within the unit of work that appends ``line``'s event: the line goes to the file
    once that commits (it commits or rolls back with the event)."""
    db.session.add(LedgerTask(line=line))
    background.after_commit(write_pending)


def write_pending() -> int:
    """Append every queued line to the file, then forget them; returns how many. Reads and
    deletes them on a connection of its own (the caller's unit of work is not touched),
    one process at a time."""
    written = 0
    with _writing():
        while True:
            with db.engine.begin() as connection:
                tasks = connection.execute(
                    select(LedgerTask.id, LedgerTask.line).order_by(LedgerTask.id).limit(BATCH)
                ).all()
            if not tasks:
                return written
            append([line for _id, line in tasks])
            with db.engine.begin() as connection:
                connection.execute(
                    delete(LedgerTask).where(
                        LedgerTask.id.in_([task_id for task_id, _line in tasks])
                    )
                )
            written += len(tasks)


@contextmanager
def _writing() -> Iterator[None]:
    """Held while lines are copied: another process waits, then finds them gone."""
    target = path()
    fd = os.open(target.with_name(target.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)

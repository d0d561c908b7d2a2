"""Purges: what an erasure leaves to do once the database change is durable.

An erasure queues ``PurgeTask`` rows in its own transaction; after commit they run at once,
and whatever did not finish (a crash, a storage outage) runs again on start-up, on the first
request of each process and with ``flask --app archive purge``. Handlers must be idempotent.
"""
from __future__ import annotations

import json
import logging
from typing import Callable

from flask import Flask, current_app
from sqlalchemy import delete, select, text, update

from archive.db import db, utcnow
from archive.models import PurgeTask

log = logging.getLogger("archive.purge")
HANDLERS: dict[str, Callable[[dict], None]] = {}
#: name -> function that compacts a store still holding erased bytes; returns a summary
COMPACTORS: dict[str, Callable[[], str]] = {}


def handler(kind: str):
    """Register the function that carries out purges of ``kind``."""
    def register(function: Callable[[dict], None]):
        HANDLERS[kind] = function
        return function
    return register


def queue(kind: str, **payload) -> None:
    """Add a purge to the current transaction (it commits or rolls back with the erasure)."""
    db.session.add(PurgeTask(kind=kind, payload_json=json.dumps(payload)))


def run_pending(limit: int = 500) -> tuple[int, int]:
    """Carry out queued purges, each committed on its own. Returns (done, still pending).

    Several workers may run this at once over the same queue (each after its own commit),
    and a handler may commit: tasks are read as plain values, a task another worker has
    finished meanwhile is skipped, and a row already gone is no error."""
    done = failed = 0
    pending = list(db.session.execute(select(PurgeTask.id, PurgeTask.kind,
                                             PurgeTask.payload_json)
                                      .order_by(PurgeTask.id).limit(limit)))
    for task_id, kind, payload_json in pending:
        if db.session.scalar(select(PurgeTask.id).where(PurgeTask.id == task_id)) is None:
            db.session.rollback()
            continue                      # another worker finished it
        try:
            HANDLERS[kind](json.loads(payload_json or "{}"))
        except Exception:  # noqa: BLE001 — kept for the next try; the log names no content
            log.exception("purge task %s (%s) failed; it will be retried", task_id, kind)
            db.session.rollback()
            db.session.execute(update(PurgeTask).where(PurgeTask.id == task_id).values(
                attempts=PurgeTask.attempts + 1, last_tried_at=utcnow()))
            db.session.commit()
            failed += 1
            continue
        db.session.execute(delete(PurgeTask).where(PurgeTask.id == task_id))
        db.session.commit()
        done += 1
    return done, failed


@handler("media")
def _purge_media(payload: dict) -> None:
    from archive.media.storage import storage_from_config
    storage = storage_from_config(current_app.config)
    for key in payload.get("keys", []):
        storage.delete(key)


@handler("database")
def _purge_database(_payload: dict) -> None:
    """Overwritten pages reach the main file and the write-ahead log is emptied."""
    if db.engine.dialect.name == "sqlite":
        db.session.commit()
        with db.engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def _compact_database() -> str:
    _purge_database({})
    return "write-ahead log checkpointed" if db.engine.dialect.name == "sqlite" else "nothing"


COMPACTORS["database"] = _compact_database


def init_app(app: Flask) -> None:
    """Retry unfinished purges once per process, before its first request is answered."""
    state = {"checked": False}

    @app.before_request
    def _retry_once() -> None:
        if state["checked"]:
            return
        state["checked"] = True
        try:
            run_pending()
        except Exception:  # noqa: BLE001 — never block serving; `flask purge` reports it
            db.session.rollback()
            log.exception("could not run pending purges at start-up")

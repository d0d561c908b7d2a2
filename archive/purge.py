"""Purges: what an erasure leaves to do once the database change is durable.

An erasure queues ``PurgeTask`` rows in its own transaction; after commit the process's
background thread runs them (`archive.background`), and whatever did not finish (a crash, a
storage outage) is tried again by that thread a little later, by each process's thread when
it starts, by ``flask setup`` and by ``flask --app archive purge``. Handlers must be
idempotent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, text, update

from archive import background
from archive.db import db, utcnow
from archive.models import (
    PURGE_KINDS,
    Consent,
    Entry,
    Item,
    MediaAsset,
    PurgeTask,
    Revision,
    RevisionTag,
)

log = logging.getLogger("archive.purge")
HANDLERS: dict[str, Callable[[dict], None]] = {}
#: name -> function that compacts a store still holding erased bytes; returns a summary
COMPACTORS: dict[str, Callable[[], str]] = {}


def handler(kind: str):
    """Register the function that carries out purges of ``kind``."""
    if kind not in PURGE_KINDS:  # the database refuses any other kind of task
        raise ValueError(f"not a kind of purge: {kind}")

    def register(function: Callable[[dict], None]):
        HANDLERS[kind] = function
        return function

    return register


def queue(kind: str, **payload) -> None:
    """Add a purge to the current transaction (it commits or rolls back with the erasure)."""
    db.session.add(PurgeTask(kind=kind, payload=payload))


def run_pending(limit: int = 500) -> tuple[int, int]:
    """Carry out queued purges, each committed on its own. Returns (done, still pending).

    Several workers may run this at once over the same queue (each after its own commit),
    and a handler may commit: tasks are read as plain values, a task another worker has
    finished meanwhile is skipped, and a row already gone is no error."""
    done = failed = 0
    pending = list(
        db.session.execute(
            select(PurgeTask.id, PurgeTask.kind, PurgeTask.payload, PurgeTask.created_at)
            .order_by(PurgeTask.id)
            .limit(limit)
        )
    )
    rewrite_after = _rewrite_after()
    for task_id, kind, payload, created_at in pending:
        if kind == "database" and rewrite_after is not None and created_at > rewrite_after:
            _rewrite_later(created_at - rewrite_after)
            continue  # one rewrite, a little later, for several erasures
        if db.session.scalar(select(PurgeTask.id).where(PurgeTask.id == task_id)) is None:
            db.session.rollback()
            continue  # another worker finished it
        try:
            HANDLERS[kind](payload or {})
        except Exception as error:
            if isinstance(error, Busy):
                log.info("purge task %s (%s): %s", task_id, kind, error)
            else:
                log.exception("purge task %s (%s) failed; it will be retried", task_id, kind)
            db.session.rollback()
            db.session.execute(
                update(PurgeTask)
                .where(PurgeTask.id == task_id)
                .values(attempts=PurgeTask.attempts + 1, last_tried_at=utcnow())
            )
            db.session.commit()
            failed += 1
            continue
        db.session.execute(delete(PurgeTask).where(PurgeTask.id == task_id))
        db.session.commit()
        done += 1
    if failed:
        # a busy moment (a checkpoint waiting for readers, a store briefly away) must not
        # hold up the request that erased: the background thread tries again shortly
        background.again(run_pending)
    return done, failed


@handler("media")
def _purge_media(payload: dict) -> None:
    from archive.media.storage import storage_from_config

    storage = storage_from_config(current_app.config)
    for key in payload.get("keys", []):
        storage.delete(key)


def _rewrite_after():
    """A database purge waits until its task is ``DATABASE_PURGE_DELAY`` seconds old, and
    one purge then covers every erasure before it. Each locks the database for a moment:
    SQLite's checkpoint keeps writers waiting (up to ``CHECKPOINT_WAIT_MS``), PostgreSQL's
    rewrite locks each table. Under load (an erasure every second or two) purges one after
    another held up the site: on PostgreSQL the median answer took 1.4 s, on SQLite saves
    waited behind checkpoints. Returns the newest creation time of a task to do now, or
    None when every one is due."""
    delay = current_app.config["DATABASE_PURGE_DELAY"]
    if delay <= 0:
        return None
    return utcnow() - timedelta(seconds=delay)


def _rewrite_later(wait: timedelta) -> None:
    """Run the pending purges again once the oldest waiting database purge is due (by the
    background thread; asked again meanwhile, once, at the earlier time)."""
    background.later(run_pending, max(wait.total_seconds(), 0) + 0.5)


#: the tables whose rows an erasure deletes or rewrites (revisions, tags, media, consent,
#: collection entries, the item row itself); their old row versions are what must go
ERASED_MODELS = (Revision, RevisionTag, MediaAsset, Consent, Entry, Item)
#: how long a rewrite waits for readers to finish before it is left for the next try
LOCK_TIMEOUT = "5s"
#: how long a SQLite checkpoint waits for readers and writers before it is left for a retry
CHECKPOINT_WAIT_MS = 300
#: the PostgreSQL advisory lock held while the erased tables are rewritten
REWRITE_LOCK = 0x61726368


class Busy(Exception):
    """The database was too busy for the purge just now; the background thread tries again."""


@handler("database")
def _purge_database(_payload: dict) -> None:
    """Erased rows must not stay readable in the database's own files.

    SQLite (``secure_delete=ON``) overwrites freed pages; a checkpoint then carries them into
    the main file and empties the write-ahead log. The checkpoint has to wait for every
    reader still using the log; under load it gives up after ``CHECKPOINT_WAIT_MS`` rather
    than hold up the request (and every writer behind it), and is retried in the background.

    PostgreSQL keeps a deleted or updated row as a dead tuple in its page until VACUUM.
    Plain VACUUM only marks that space reusable: the bytes stay in the page (and in free
    space between tuples) until something happens to overwrite them. ``VACUUM FULL``
    writes each table and its indexes and TOAST into new files and unlinks the old ones,
    so no page the server reads holds the erased text any more (``pg_statistic`` never
    holds it: see ``archive.db.CONTENT_COLUMNS``). The price: ``VACUUM FULL`` takes an
    exclusive lock on each table while it copies it (reads of that table wait; on an archive
    of a few thousand items, milliseconds), so it waits at most ``LOCK_TIMEOUT`` for readers
    and otherwise fails, keeping the task for the next try. A transaction that began before
    the erasure and is still open (a request, a long report, ``pg_dump``, autovacuum's
    ANALYZE) can still see the rows, and ``VACUUM FULL`` would copy them along: it first
    waits a few seconds for those (`_wait_for_older_transactions`); one still open after
    that leaves the rows to ``flask purge`` (from cron), which rewrites the tables again.
    What it cannot reach: the write-ahead log keeps the inserted text until its segments
    are recycled after later checkpoints, and unlinked files stay on the disk's free
    blocks; the README's deployment notes say how to keep those short-lived (and backups
    made with pg_dump before the withdrawal still hold the item until they expire).
    """
    db.session.commit()  # our own transaction must not hold the locks we wait for
    # every database purge committed before the clean-up starts is covered by it
    covered = db.session.scalar(select(func.max(PurgeTask.id)).where(PurgeTask.kind == "database"))
    db.session.commit()
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        with db.engine.connect() as connection:
            connection.execute(text(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}"))
            try:
                busy, _log, _moved = connection.execute(
                    text("PRAGMA wal_checkpoint(TRUNCATE)")
                ).one()
            finally:
                connection.execute(text("PRAGMA busy_timeout = 10000"))
            if busy:
                raise Busy("the write-ahead log is still in use; checkpoint left for a retry")
    elif dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # one worker rewrites at a time; the others leave their tasks to it or a retry
            if not connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": REWRITE_LOCK}
            ).scalar():
                raise Busy("another worker is rewriting the tables; left for a retry")
            try:
                _wait_for_older_transactions(connection)
                connection.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT}'"))
                try:
                    for model in ERASED_MODELS:
                        connection.execute(text(f'VACUUM FULL "{model.__tablename__}"'))
                finally:
                    connection.execute(text("RESET lock_timeout"))
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": REWRITE_LOCK})
    if covered is not None:
        db.session.execute(
            delete(PurgeTask).where(PurgeTask.kind == "database", PurgeTask.id <= covered)
        )
        db.session.commit()


#: how long a rewrite waits for transactions older than itself (which may still see the
#: erased rows: VACUUM FULL would copy them along) before it goes ahead anyway
OLDER_TRANSACTIONS_WAIT = 2.0
_OLDER_TRANSACTIONS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
    " AND xact_start < :since AND (backend_xid IS NOT NULL OR ("
    "  datname = current_database() AND backend_xmin IS NOT NULL))"
)


def _wait_for_older_transactions(connection) -> bool:
    """Wait, at most `OLDER_TRANSACTIONS_WAIT` seconds, until every transaction that began
    before now and may keep the erased rows alive has ended: in this database, any that
    took a snapshot (a request, or autovacuum's ANALYZE, that began before the erasure
    committed); in any database of the server, any that writes. A snapshot's horizon is the
    oldest transaction still writing anywhere on the server, so while another database
    runs a long write (a ``CREATE DATABASE``, a migration) the rewrite's own snapshot
    counts the erased rows as still visible, and copies them. Whether they all ended; if
    not (a long report), the rewrite copies the rows and ``flask purge`` (cron) rewrites
    again. (A role without ``pg_read_all_stats`` sees only its own sessions here.)"""
    since = connection.execute(text("SELECT statement_timestamp()")).scalar()
    deadline = time.monotonic() + OLDER_TRANSACTIONS_WAIT
    while connection.execute(_OLDER_TRANSACTIONS, {"since": since}).scalar():
        if time.monotonic() > deadline:
            log.info("older transactions still open; erased tables rewritten anyway")
            return False
        time.sleep(0.02)
    return True


def _compact_database() -> str:
    _purge_database({})
    return {
        "sqlite": "write-ahead log checkpointed",
        "postgresql": "erased tables rewritten (VACUUM FULL)",
    }.get(db.engine.dialect.name, "nothing")


COMPACTORS["database"] = _compact_database

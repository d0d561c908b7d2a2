"""Purges when several workers run the queue at once (found by scripts/bench_load.py: with
four workers, a worker whose handler had committed met a task another worker had just
finished, failed on the vanished row and left the rest of its purges, index entries of
erased pieces among them, for the next restart)."""

from __future__ import annotations

from sqlalchemy import func, select

from archive import background, purge
from archive.db import db
from archive.models import PurgeTask


def pending() -> int:
    return db.session.scalar(select(func.count()).select_from(PurgeTask))


def test_a_worker_finishes_its_run_when_another_has_done_the_same_tasks(app, monkeypatch):
    carried_out = []

    def first(payload):
        carried_out.append(("first", payload["n"]))
        if len(carried_out) == 1:  # worker A, inside its first task:
            with app.app_context():  # worker B runs the whole queue meanwhile
                assert purge.run_pending() == (2, 0)
                db.session.remove()
        db.session.commit()  # as the database purge does

    def second(payload):
        carried_out.append(("second", payload["n"]))

    # two kinds the database takes (``PURGE_KINDS``), carried out by the two above
    monkeypatch.setitem(purge.HANDLERS, "media", first)
    monkeypatch.setitem(purge.HANDLERS, "packs", second)
    purge.queue("media", n=1)
    purge.queue("packs", n=2)
    db.session.commit()

    assert purge.run_pending() == (1, 0)  # A: its first task; the second B has done

    assert carried_out == [("first", 1), ("first", 1), ("second", 2)]
    assert pending() == 0


def test_a_failing_task_is_counted_even_if_it_has_gone_meanwhile(app, monkeypatch):
    def failing(_payload):
        with app.app_context():  # another worker finishes it, then A fails
            db.session.execute(PurgeTask.__table__.delete())
            db.session.commit()
            db.session.remove()
        raise OSError("the storage is not answering")

    monkeypatch.setitem(purge.HANDLERS, "media", failing)
    purge.queue("media")
    db.session.commit()

    assert purge.run_pending() == (0, 1)
    assert pending() == 0


def test_a_checkpoint_blocked_by_a_reader_does_not_hold_up_the_erasure(app, monkeypatch):
    """SQLite: the checkpoint that empties the write-ahead log waits for every reader still
    using it. Under load it gives up quickly (the request and every writer behind it would
    wait) and is retried in the background, which empties the log once the reader is done."""
    import sqlite3
    import time
    from pathlib import Path

    from sqlalchemy import text

    monkeypatch.setattr(background, "RETRY_DELAYS", (0.2, 0.5, 1, 2, 5))
    database = Path(db.engine.url.database)
    db.session.execute(text("CREATE TABLE IF NOT EXISTS scratch (words TEXT)"))
    db.session.execute(text("INSERT INTO scratch VALUES ('zqxwalword')"))
    db.session.commit()
    reader = sqlite3.connect(database)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM scratch").fetchone()  # holds a snapshot in the log
    wal = database.with_name(database.name + "-wal")
    try:
        db.session.execute(text("DELETE FROM scratch"))  # as an erasure deletes
        purge.queue("database")
        db.session.commit()
        started = time.monotonic()
        assert purge.run_pending() == (0, 1)
        assert time.monotonic() - started < 2, "the checkpoint waited for the reader"
        assert pending() == 1
        assert b"zqxwalword" in wal.read_bytes()
    finally:
        reader.rollback()
        reader.close()

    deadline = time.monotonic() + 20
    while pending() and time.monotonic() < deadline:
        time.sleep(0.1)
        db.session.rollback()
    assert pending() == 0, "the background retry did not finish the purge"
    for path in (database, wal):
        assert b"zqxwalword" not in path.read_bytes(), path.name

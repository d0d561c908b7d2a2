"""Purges when several workers run the queue at once (found by scripts/bench_load.py: with
four workers, a worker whose handler had committed met a task another worker had just
finished, failed on the vanished row and left the rest of its purges, index entries of
erased pieces among them, for the next restart)."""
from __future__ import annotations

from sqlalchemy import func, select

from archive import purge
from archive.db import db
from archive.models import PurgeTask


def pending() -> int:
    return db.session.scalar(select(func.count()).select_from(PurgeTask))


def test_a_worker_finishes_its_run_when_another_has_done_the_same_tasks(app, monkeypatch):
    carried_out = []

    def first(payload):
        carried_out.append(("first", payload["n"]))
        if len(carried_out) == 1:               # worker A, inside its first task:
            with app.app_context():             # worker B runs the whole queue meanwhile
                assert purge.run_pending() == (2, 0)
                db.session.remove()
        db.session.commit()                     # as the database purge does

    def second(payload):
        carried_out.append(("second", payload["n"]))

    monkeypatch.setitem(purge.HANDLERS, "first", first)
    monkeypatch.setitem(purge.HANDLERS, "second", second)
    purge.queue("first", n=1)
    purge.queue("second", n=2)
    db.session.commit()

    assert purge.run_pending() == (1, 0)        # A: its first task; the second B has done

    assert carried_out == [("first", 1), ("first", 1), ("second", 2)]
    assert pending() == 0


def test_a_failing_task_is_counted_even_if_it_has_gone_meanwhile(app, monkeypatch):
    def failing(_payload):
        with app.app_context():                 # another worker finishes it, then A fails
            db.session.execute(PurgeTask.__table__.delete())
            db.session.commit()
            db.session.remove()
        raise OSError("the storage is not answering")

    monkeypatch.setitem(purge.HANDLERS, "failing", failing)
    purge.queue("failing")
    db.session.commit()

    assert purge.run_pending() == (0, 1)
    assert pending() == 0

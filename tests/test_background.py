"""Follow-up work in a thread of the process (`archive.background`): a save or an erasure
answers without waiting for the index writer, searches meanwhile leave the changed item out,
and the thread applies the task once the writer is free; an erasure's purges (media files,
the database's own files) are done by the thread too, and nothing is left behind."""

from __future__ import annotations

import time

import pytest
from flask_login import AnonymousUserMixin

from archive import background
from archive.db import commit, db
from archive.operations import items as item_ops
from archive.operations import withdraw
from archive.operations.consent import ConsentChoice
from archive.search import index, rebuild, sync
from archive.search.query import search
from tests.search_helpers import in_index

pytestmark = pytest.mark.both_databases

ANONYMOUS = AnonymousUserMixin()


@pytest.fixture
def app(make_app):
    app = make_app(BACKGROUND_WORK=True)
    with app.app_context():
        yield app
        background.wait(app)
        db.session.remove()


def share(account, circle, word: str):
    result = item_ops.contribute(
        account,
        circle,
        item_ops.contributor_for(account),
        item_ops.Draft(kind="poem", title="शाम की चाय", body=f"{word} धीरे धीरे", language="hi"),
        ConsentChoice(audience="public"),
    )
    commit()
    return result.item


def found(word: str) -> list[str]:
    return [hit.item.public_id for hit in search(ANONYMOUS, word).hits]


def test_a_save_answers_while_another_worker_holds_the_writer(app, make_circle, make_account):
    circle = make_circle()
    author = make_account(circle=circle)
    first = share(author, circle, "zqxpehla")
    assert background.wait(app)
    assert found("zqxpehla") == [first.public_id]

    held = index.writer()  # another worker is writing, for a while
    try:
        started = time.monotonic()
        second = share(author, circle, "zqxdoosra")
        assert time.monotonic() - started < 5  # the writer's timeout is 30 s
        assert found("zqxdoosra") == []  # not applied yet: left out, no error
        assert found("धीरे") == [first.public_id]
    finally:
        held.cancel()
    assert background.wait(app)
    assert found("zqxdoosra") == [second.public_id]
    assert not sync.Mark.read().behind()


def test_an_erasure_leaves_results_at_once_while_the_writer_is_busy(app, make_circle, make_account):
    circle = make_circle()
    author = make_account(circle=circle)
    piece = share(author, circle, "zqxmitna")
    assert background.wait(app)
    public_id = piece.public_id
    held = index.writer()
    try:
        withdraw.erase(piece, author)
        commit()
        assert in_index(public_id)  # still in the index files...
        assert found("zqxmitna") == []  # ...and never in a result
        assert search(ANONYMOUS, "zqxmitna").total == 0
    finally:
        held.cancel()
    assert background.wait(app)
    assert not in_index(public_id)
    assert rebuild.check() == {"missing": [], "extra": []}


def test_the_thread_carries_on_after_a_failure(app, make_circle, make_account, monkeypatch):
    circle = make_circle()
    author = make_account(circle=circle)
    real = sync.catch_up
    calls = []

    def failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "catch_up", failing_once)
    first = share(author, circle, "zqxek")
    assert background.wait(app)
    second = share(author, circle, "zqxdo")
    assert background.wait(app)
    monkeypatch.setattr(sync, "catch_up", real)
    assert len(calls) == 2
    assert found("zqxek") == [first.public_id] and found("zqxdo") == [second.public_id]


def test_an_erasures_purges_are_done_by_the_thread(app, make_circle, make_account):
    from sqlalchemy import func, select

    from archive.models import PurgeTask
    from tests.items_helpers import gps_photo, media_files

    circle = make_circle()
    author = make_account(circle=circle)
    result = item_ops.contribute(
        author,
        circle,
        item_ops.contributor_for(author),
        item_ops.Draft(
            kind="artwork",
            title="बारिश",
            alt_text="खिड़की पर बारिश की बूँदें",
            language="hi",
            image=gps_photo(),
        ),
        ConsentChoice(audience="public"),
    )
    commit()
    assert media_files(app)
    withdraw.erase(result.item, author)
    commit()
    assert background.wait(app)
    assert media_files(app) == []
    assert db.session.scalar(select(func.count()).select_from(PurgeTask)) == 0


def test_erasures_close_together_share_one_database_clean_up(make_app, make_circle, make_account):
    """Cleaning erased rows out of the database's files (SQLite: a checkpoint; PostgreSQL:
    ``VACUUM FULL`` of each table) holds others up for a moment: it waits until an
    erasure's database purge is ``DATABASE_PURGE_DELAY`` seconds old, and one clean-up
    covers every erasure before it."""
    from sqlalchemy import event, func, select

    from archive import purge
    from archive.models import PurgeTask

    app = make_app(DATABASE_PURGE_DELAY=2)
    with app.app_context():
        circle = make_circle()
        author = make_account(circle=circle)
        pieces = [share(author, circle, f"zqx{n}") for n in ("ek", "do", "teen")]
        clean_ups = []

        def seen(_conn, _cursor, statement, *_args):
            if statement.startswith(("VACUUM FULL", "PRAGMA wal_checkpoint")):
                clean_ups.append(statement)

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            for piece in pieces:
                withdraw.erase(piece, author)
                commit()  # each erasure runs the pending purges after commit
            waiting = db.session.scalar(
                select(func.count()).select_from(PurgeTask).where(PurgeTask.kind == "database")
            )
            db.session.commit()
            assert waiting == 3 and clean_ups == []
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and waiting:
                time.sleep(0.2)
                waiting = db.session.scalar(select(func.count()).select_from(PurgeTask))
                db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        assert waiting == 0
        assert background.wait(app)  # its last commit is over before the database goes
        once = len(purge.ERASED_MODELS) if db.engine.dialect.name == "postgresql" else 1
        assert len(clean_ups) == once
        db.session.remove()

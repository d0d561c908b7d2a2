"""Follow-up work in one place (`archive.background`), consent signals, and units of work
that never keep what a refusal or a page view did.

- Every effect of a commit (index catch-up, purges, packs dropped, compaction, the ledger
  file) is done by the process's background thread, tried again after a failure, with no
  timer of its own; what a stopped process left is done when the next one starts.
- The copy of the consent ledger on disk is durable: its line waits in the database, in the
  event's own transaction, until it is on disk.
- What follows a consent change or an erasure inside its transaction is connected to
  signals (`archive.signals`), not to lists every app appends to.
- Pages (GET) write nothing; a request in which an operation refused keeps nothing, even
  when its view catches the refusal and redirects.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import timedelta

import pytest
from flask import flash, redirect
from sqlalchemy import event, func, select, update
from sqlalchemy.engine import Engine

from archive import background, ledger_file, purge, signals
from archive.db import commit, db, utcnow
from archive.models import Circle, IndexTask, LedgerTask, PurgeTask
from archive.operations import Refused, withdraw
from archive.operations.circles import create_circle
from archive.search import sync
from tests.collections_helpers import entry_id, make_collection, share_piece
from tests.erasure_helpers import (
    change_consent,
    ledger_file_lines,
    media_files,
    share,
    world,  # noqa: F401  (fixture)
)
from tests.search_helpers import in_index, segments

WRITES = ("INSERT", "UPDATE", "DELETE")


def count(model) -> int:
    db.session.expire_all()
    found = db.session.scalar(select(func.count()).select_from(model))
    db.session.commit()
    return found


def until(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(background, "RETRY_DELAYS", (0.1, 0.2, 0.3))


class Writes:
    """The writing statements the database receives, with the thread that sent each."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, _conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            self.seen.append((threading.current_thread().name, statement.split("\n")[0]))

    def by(self, thread: str) -> list[str]:
        return [statement for name, statement in self.seen if name == thread]


@pytest.fixture
def writes():
    """Every app's writes (each app has an engine of its own)."""
    recorded = Writes()
    event.listen(Engine, "before_cursor_execute", recorded)
    yield recorded
    event.remove(Engine, "before_cursor_execute", recorded)


# --- signals -------------------------------------------------------------------------------


def test_the_operations_send_signals_and_another_app_adds_no_receiver(app, make_app):
    """No process-wide hook lists: the operations send signals, each receiver once."""
    from archive import packs
    from archive.operations import collections, consent, tags

    make_app()
    assert not hasattr(consent, "CHANGE_HOOKS") and not hasattr(withdraw, "ERASE_HOOKS")
    changed = list(signals.consent_changed.receivers_for(None))
    erasing = list(signals.item_erasing.receivers_for(None))
    assert sync.queue in changed and len(changed) == len(set(changed)) == 3
    assert len(erasing) == len(set(erasing)) == 4
    assert tags.forget_erased_tags in erasing  # a concept keeps no tag its last piece took
    # cached packs look up the collection entries the collection receivers take out
    assert changed.index(packs.queue_drop) < changed.index(
        collections.leave_where_no_longer_allowed
    )
    assert erasing.index(packs.queue_drop) < erasing.index(collections.leave_everything)


def test_receivers_run_inside_the_change(app, world):
    """A receiver connected to a signal runs in the change's transaction: an erasure's
    receivers still see the piece's rows."""
    piece = share(world["contributor"], world.home, title="zqxsignal know-how", kind="knowhow")
    seen = []

    def erasing(item) -> None:
        seen.append(("erasing", item.public_id, item.current is not None))

    def changed(item) -> None:
        seen.append(("changed", item.public_id))

    signals.item_erasing.connect(erasing)
    signals.consent_changed.connect(changed)
    try:
        response = change_consent(world.viewers["contributor"].client, piece, audience="circle")
        assert response.status_code == 302
        withdraw.withdraw_with_code(piece.code)
        commit()
    finally:
        signals.item_erasing.disconnect(erasing)
        signals.consent_changed.disconnect(changed)
    assert ("changed", piece.public_id) in seen
    assert seen[-1] == ("erasing", piece.public_id, True)
    assert [entry for entry in seen if entry[0] == "erasing"] == [seen[-1]]


# --- the ledger file -------------------------------------------------------------------------


def test_a_ledger_line_that_could_not_be_written_is_written_later(
    app, world, monkeypatch, fast_retries
):
    """A full disk when the line is appended: the line waits in the database (committed
    with the event) and the background thread writes it once it can."""
    real = ledger_file.append_to
    failures = [OSError(28, "No space left on device")] * 2

    def full_disk_at_first(target, lines):
        if failures:
            raise failures.pop()
        real(target, lines)

    monkeypatch.setattr(ledger_file, "append_to", full_disk_at_first)

    piece = share(world["contributor"], world.home, title="zqxledger poem", kind="poem")
    withdraw.withdraw_with_code(piece.code)
    commit()

    assert until(lambda: not failures and count(LedgerTask) == 0)
    assert background.wait(app)
    events = [line["event"] for line in ledger_file_lines(app, piece)]
    assert events.count("granted") == 1 and events.count("withdrawn") == 1


def test_a_rolled_back_change_leaves_no_ledger_line(app, world):
    piece = share(world["contributor"], world.home, title="zqxrolled poem", kind="poem")
    before = ledger_file_lines(app, piece)
    withdraw.withdraw_with_code(piece.code)
    db.session.rollback()
    assert count(LedgerTask) == 0
    assert ledger_file_lines(app, piece) == before
    assert piece.item().state == "active"


def test_lines_and_purges_a_stopped_process_left_are_done_when_the_next_one_starts(
    make_app, writes, tmp_path
):
    """A process stopped after its commit, before its thread wrote the ledger line and ran
    the purge. The next process's thread does both when it starts: asked before the first
    request is answered, which itself writes nothing."""
    app = make_app(BACKGROUND_WORK=True)
    line = {
        "item": "zqxleft",
        "event": "withdrawn",
        "change": {},
        "actor_role": "code",
        "at": utcnow().isoformat(),
    }
    with app.app_context():
        db.session.add(LedgerTask(line=line))
        purge.queue("media", keys=["zqx/left-behind.webp"])
        db.session.commit()
        db.session.remove()
    writes.seen.clear()

    assert app.test_client().get("/robots.txt").status_code == 200
    with app.app_context():
        assert background.wait(app)
        assert count(LedgerTask) == 0 and count(PurgeTask) == 0
        assert line in ledger_file.read()
        db.session.remove()
    assert not writes.by(threading.current_thread().name)


def test_flask_purge_and_setup_write_waiting_lines(app):
    line = {
        "item": "zqxcron",
        "event": "withdrawn",
        "change": {},
        "actor_role": "code",
        "at": utcnow().isoformat(),
    }
    db.session.add(LedgerTask(line=line))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert count(LedgerTask) == 0
    assert ledger_file.read().count(line) == 1


def test_workers_writing_at_once_write_each_line_once(app):
    lines = [
        {
            "item": f"zqx{n}",
            "event": "changed",
            "change": {},
            "actor_role": "code",
            "at": utcnow().isoformat(),
        }
        for n in range(60)
    ]
    db.session.add_all(LedgerTask(line=line) for line in lines)
    db.session.commit()
    errors = []

    def worker() -> None:
        with app.app_context():
            try:
                ledger_file.write_pending()
            except Exception as error:  # noqa: BLE001 — handed to the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    written = [line for line in ledger_file.read() if line["item"].startswith("zqx")]
    assert sorted(written, key=lambda line: line["item"]) == sorted(
        lines, key=lambda line: line["item"]
    )
    assert count(LedgerTask) == 0


# --- one place, no timers ---------------------------------------------------------------------


def test_every_follow_up_of_an_erasure_is_done_by_the_thread(
    make_app, make_circle, make_account, monkeypatch, fast_retries
):
    """Index catch-up, compaction, media purge (failing once, then retried), the delayed
    database clean-up and the ledger line: all by the background thread; no timer made."""
    real_timer = threading.Timer

    def no_timers(*args, **kwargs):
        if sys._getframe(1).f_globals.get("__name__", "").startswith("archive"):
            raise AssertionError("follow-up work made a timer of its own")
        return real_timer(*args, **kwargs)  # (the rate limiter's own)

    monkeypatch.setattr(threading, "Timer", no_timers)
    real_media = purge.HANDLERS["media"]
    outage = [OSError("the store is away for a moment")]

    def media_away_once(payload):
        if outage:
            raise outage.pop()
        real_media(payload)

    monkeypatch.setitem(purge.HANDLERS, "media", media_away_once)
    app = make_app(BACKGROUND_WORK=True, DATABASE_PURGE_DELAY=1, INDEX_COMPACT_DELAY=0)
    with app.app_context():
        circle = make_circle()
        author = make_account(circle=circle)
        piece = share(author, circle, title="zqxthreadwork painting")
        assert background.wait(app)
        assert in_index(piece.public_id) and media_files(app)

        withdraw.withdraw_with_code(piece.code)
        commit()

        def all_done() -> bool:
            return (
                count(PurgeTask) == 0
                and count(LedgerTask) == 0
                and not any(s.has_deletions() for s in segments())
                and not in_index(piece.public_id)
            )

        assert until(all_done)
        assert not outage
        assert not media_files(app) & set(piece.media_keys)
        assert [
            line["event"] for line in ledger_file.read() if line["item"] == piece.public_id
        ] == ["granted", "withdrawn"]
        db.session.remove()


# --- pages write nothing ----------------------------------------------------------------------


def test_pages_write_nothing(app, world, writes, monkeypatch):
    """A search with old index tasks to forget, a page while purges are pending: the
    request leaves both to the background thread, ``flask setup`` and ``flask purge``."""
    piece = share(world["contributor"], world.home, title="zqxquiet know-how", kind="knowhow")
    db.session.execute(update(IndexTask).values(created_at=utcnow() - timedelta(days=30)))
    purge.queue("media", keys=["zqx/still-waiting.webp"])
    db.session.commit()
    tasks = count(IndexTask)
    monkeypatch.setattr(sync, "_last_pruned", [None])  # this process has not pruned yet
    writes.seen.clear()
    anonymous = world.viewers["anonymous"].client
    for url in ("/", "/search?q=zqxquiet", piece.url, "/search?q=udasi"):
        assert anonymous.get(url).status_code == 200, url
    assert writes.seen == []
    assert count(IndexTask) == tasks and count(PurgeTask) == 1


# --- a refusal keeps nothing -----------------------------------------------------------------


def test_a_view_that_catches_a_refusal_after_a_flush_and_redirects_keeps_nothing(make_app):
    app = make_app()

    def half_done():
        create_circle("zqx-half", "Half made")  # flushed, then refused
        try:
            raise Refused("not now")
        except Refused as refused:
            flash(str(refused.message), "error")
            return redirect("/")

    app.add_url_rule("/zqx-half-done", view_func=half_done)

    assert app.test_client().get("/zqx-half-done").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Circle).where(Circle.slug == "zqx-half")) is None
        db.session.remove()


def test_a_refused_collection_change_that_redirects_queues_nothing(app, world, monkeypatch):
    """Moving the first entry up is refused after the change had already queued the drop
    of the collection's cached packs; the page redirects with the message, and the queued
    purge is not kept."""
    curator = world["facilitator"]
    piece = share_piece(world["contributor"], world.home, "zqxonly know-how")
    slug = make_collection(curator, world.home, "zqx-one", [piece])
    ran = []
    monkeypatch.setattr(purge, "run_pending", lambda *args, **kwargs: ran.append(1))
    client = world.viewers["facilitator"].client

    response = client.post_form(
        f"/collections/{slug}/entries/{entry_id(slug, piece.title)}/up", page=f"/collections/{slug}"
    )

    assert response.status_code == 302
    assert count(PurgeTask) == 0 and ran == []

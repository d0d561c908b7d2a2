"""Consent written while the same item is being erased, or changed, by another request (on
PostgreSQL, where two requests write side by side; SQLite lets one writer at a time).

Whichever comes second waits for the item's row lock, then sees what the first did: after
an erasure it is refused as "already taken back" and leaves nothing of the item behind;
after another change it decides on, and records, the consent as that change left it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from archive import ledger_file
from archive.db import commit, db, rollback
from archive.models import (
    Account,
    Collection,
    Consent,
    ConsentEvent,
    Entry,
    Item,
    Revision,
    RevisionTag,
)
from archive.operations import Refused
from archive.operations import collections as collection_ops
from archive.operations import consent as consent_ops
from archive.operations.consent import ConsentChoice
from archive.operations.withdraw import erase
from tests.collections_helpers import share_piece
from tests.erasure_helpers import item_rows

pytestmark = pytest.mark.both_databases("postgresql")

WAIT = 30  # seconds; a thread still running after this is a failure, never a hang
TAKEN_BACK = "This piece has already been taken back."


@pytest.fixture
def home(make_circle):
    return make_circle("kshetra", "Kshetra circle")


@pytest.fixture
def people(home, make_account):
    return {
        "kavita": make_account("kavita", circle=home).id,
        "meenal": make_account("meenal", role="facilitator", circle=home).id,
    }


@pytest.fixture
def piece(people, home):
    kavita = db.session.get(Account, people["kavita"])
    return share_piece(kavita, home, "Two hands at once")


def _someone_waits_for_a_lock() -> bool:
    with db.engine.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
        )


def _second_waits_for_first(app, first: Callable[[], None], second: Callable[[], None]) -> dict:
    """``first`` runs in one request and keeps its transaction open until ``second``,
    in another request, is seen waiting for a lock; then ``first`` commits. Returns how
    ``second`` ended: saved, or refused with a status and message."""
    db.session.remove()  # the test body holds no transaction meanwhile
    done_first, may_commit, outcome = threading.Event(), threading.Event(), {}

    def run_first():
        with app.test_request_context():
            first()
            done_first.set()
            may_commit.wait(WAIT)
            commit()
            db.session.remove()

    def run_second():
        with app.test_request_context():
            try:
                second()
            except Refused as refused:
                outcome.update(status=refused.status, message=str(refused.message))
                rollback()
            else:
                outcome["status"] = "saved"
                commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    threads[0].start()
    assert done_first.wait(WAIT)
    threads[1].start()
    deadline = time.monotonic() + WAIT
    while not _someone_waits_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    waited = threads[1].is_alive() and not outcome
    may_commit.set()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive(), "a request never finished"
    assert waited, "the second request did not wait for the first"
    return outcome


def _item(item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    assert item.consent.audience  # loaded before any lock, as a view does
    return item


def _erase(piece, people) -> Callable[[], None]:
    return lambda: erase(_item(piece.id), db.session.get(Account, people["kavita"]))


def _change(piece, people, **choice) -> Callable[[], None]:
    def change():
        consent_ops.change(
            _item(piece.id),
            ConsentChoice(
                **{"audience": "public", "attribution": "name", "collections": True, **choice}
            ),
            db.session.get(Account, people["kavita"]),
        )

    return change


def _confirm(piece, people) -> Callable[[], None]:
    return lambda: consent_ops.confirm(
        _item(piece.id), db.session.get(Account, people["kavita"]), None
    )


def _add_to_collection(piece, people, home) -> Callable[[], None]:
    meenal = db.session.get(Account, people["meenal"])
    collection_ops.create(meenal, home, "two-hands", "Two hands")
    commit()

    def add():
        collection = db.session.scalar(select(Collection).where(Collection.slug == "two-hands"))
        collection_ops.add_entry(
            db.session.get(Account, people["meenal"]), collection, _item(piece.id)
        )

    return add


def _ledger(piece) -> tuple[list, list]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.item_public_id == piece.public_id)
        .order_by(ConsentEvent.id)
    )
    return (
        [row.event for row in rows],
        [line["event"] for line in ledger_file.read() if line["item"] == piece.public_id],
    )


def _rows_of(piece) -> dict:
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(
            select(func.count()).select_from(model).where(item_rows(model, piece.id))
        )
        for model in (Consent, Revision, RevisionTag, Entry)
    }


@pytest.mark.parametrize("writes", ["change", "confirm", "add to a collection"])
def test_consent_written_while_an_erasure_commits_is_refused(app, piece, people, home, writes):
    second = {
        "change": lambda: _change(piece, people, audience="circle"),
        "confirm": lambda: _confirm(piece, people),
        "add to a collection": lambda: _add_to_collection(piece, people, home),
    }[writes]()

    outcome = _second_waits_for_first(app, _erase(piece, people), second)

    assert outcome == {"status": 410, "message": TAKEN_BACK}
    assert db.session.get(Item, piece.id).state == "withdrawn"
    assert _rows_of(piece) == {"Consent": 0, "Revision": 0, "RevisionTag": 0, "Entry": 0}
    assert _ledger(piece) == (["granted", "withdrawn"], ["granted", "withdrawn"])


def test_an_erasure_after_a_change_it_waited_for_takes_everything(app, piece, people):
    outcome = _second_waits_for_first(
        app, _change(piece, people, audience="circle"), _erase(piece, people)
    )

    assert outcome == {"status": "saved"}
    assert _rows_of(piece) == {"Consent": 0, "Revision": 0, "RevisionTag": 0, "Entry": 0}
    assert _ledger(piece) == (
        ["granted", "changed", "withdrawn"],
        ["granted", "changed", "withdrawn"],
    )


def test_a_change_after_another_builds_on_what_that_one_saved(app, piece, people):
    """The second change read the consent before the first was saved: under the lock it
    reads it again, so the ledger's "before" is what was really there."""
    outcome = _second_waits_for_first(
        app, _change(piece, people, audience="circle"), _change(piece, people, audience="private")
    )

    assert outcome == {"status": "saved"}
    db.session.expire_all()
    changes = db.session.scalars(
        select(ConsentEvent.change)
        .where(ConsentEvent.item_public_id == piece.public_id, ConsentEvent.event == "changed")
        .order_by(ConsentEvent.id)
    ).all()
    assert changes == [{"audience": ["public", "circle"]}, {"audience": ["circle", "private"]}]
    assert db.session.get(Item, piece.id).consent.audience == "private"

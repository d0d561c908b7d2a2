"""Two requests at once on PostgreSQL (SQLite lets one writer at a time, so this cannot
happen there): an edit saved while an erasure of the same item is about to commit must not
leave a revision behind. The edit waits for the item's row lock, then finds the item
withdrawn and is refused."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from archive.db import commit, db
from archive.models import Account, Item, Revision
from archive.operations import Refused
from archive.operations import items as item_ops
from archive.operations.withdraw import erase
from tests.erasure_helpers import share, world  # noqa: F401  (fixture)

pytestmark = pytest.mark.both_databases("postgresql")


def test_an_edit_saved_while_an_erasure_commits_is_refused(app, world):
    piece = share(
        world["contributor"], world.home, title="Two hands at once", kind="poem", audience="circle"
    )
    account_id = world["contributor"].id
    db.session.remove()
    erased, outcome = threading.Event(), {}

    def withdraw_slowly():
        with app.test_request_context():
            item = db.session.get(Item, piece.id)
            erase(item, db.session.get(Account, account_id))
            erased.set()
            threading.Event().wait(0.5)  # the edit arrives while this is not committed yet
            commit()
            db.session.remove()

    eraser = threading.Thread(target=withdraw_slowly)
    eraser.start()
    assert erased.wait(30)
    with app.test_request_context():
        item = db.session.get(Item, piece.id)
        draft = item_ops.Draft(
            kind="poem", title="Two hands, edited", body="new words", language="en"
        )
        try:
            item_ops.revise(db.session.get(Account, account_id), item, draft)
        except Refused as refused:
            outcome["status"] = refused.status
        db.session.rollback()
        db.session.remove()
    eraser.join(30)

    assert outcome == {"status": 410}
    assert (
        db.session.scalar(
            select(func.count()).select_from(Revision).where(Revision.item_id == piece.id)
        )
        == 0
    )
    assert db.session.get(Item, piece.id).state == "withdrawn"

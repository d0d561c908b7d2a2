"""Erasure wins every race: edits saved as fast as they can be sent while the piece is taken
back leave nothing behind — not a revision, not a tag, not a word in any file the site keeps
(database, write-ahead log, index, media, a backup made afterwards). Two people saving one
piece at once never overwrite each other, and the database itself refuses new parts for a
withdrawn item."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from archive import backup, purge
from archive.db import db
from archive.models import Item, Revision, RevisionTag
from tests.erasure_helpers import item_rows, share, text, withdraw_signed_in, world  # noqa: F401
from tests.services import postgres
from tests.test_erasure_residue import let_go_of_files, site_files

pytestmark = pytest.mark.both_databases

EDIT_MARK = "zqxracerword"
EDIT_MARK_HI = "झक्सदौड़शब्द"
EDITS = 200


def _needles() -> dict[str, bytes]:
    return {
        f"{word} ({codec})": word.encode(codec)
        for word in (EDIT_MARK, EDIT_MARK_HI)
        for codec in ("utf-8", "utf-16-le")
    }


def _residue(app, root: Path) -> list[str]:
    found = [
        f"{needle} in {name}"
        for name, path in site_files(app, root).items()
        for needle, raw in _needles().items()
        if raw in path.read_bytes()
    ]
    if postgres.backend() == "postgresql":
        found += [
            f"{hit} (database)"
            for hit in postgres.pages_holding(app.config["DATABASE_URL"], _needles())
        ]
    return sorted(set(found))


def test_a_withdrawal_racing_200_edits_leaves_no_word_of_any_edit(app, world, tmp_path):
    piece = share(
        world["contributor"],
        world.home,
        title="Racing words",
        kind="poem",
        audience="circle",
        tags=("race",),
    )
    editor, api = world.viewers["contributor"], app.test_client()
    url = f"/api/v1/items/{piece.public_id}/revisions"
    outcomes: list[int] = []
    started = threading.Event()

    def keep_editing():
        for number in range(EDITS):
            response = api.post(
                url,
                headers=editor.headers,
                json={
                    "body": f"{EDIT_MARK} {EDIT_MARK_HI} {number}",
                    "tags": [f"{EDIT_MARK}{number}"],
                },
            )
            outcomes.append(response.status_code)
            if number == 20:
                started.set()

    thread = threading.Thread(target=keep_editing)
    thread.start()
    assert started.wait(60)
    withdrawn = withdraw_signed_in(world.viewers["contributor"].client, piece)
    thread.join(120)

    assert withdrawn.status_code == 200, text(withdrawn)[:2000]
    assert set(outcomes) <= {201, 410}, sorted(set(outcomes))
    assert outcomes[-1] == 410 and 201 in outcomes  # the race really happened both ways
    first_refused = outcomes.index(410)
    assert set(outcomes[first_refused:]) == {410}  # nothing saved after the erasure
    db.session.expire_all()
    for model in (Revision, RevisionTag):
        assert (
            db.session.scalar(
                select(func.count()).select_from(model).where(item_rows(model, piece.id))
            )
            == 0
        )
    assert db.session.get(Item, piece.id).state == "withdrawn"

    purge.run_pending()
    for compact in list(purge.COMPACTORS.values()):
        compact()
    backup.backup(tmp_path / "backup-after")
    let_go_of_files(app)
    assert _residue(app, tmp_path) == []


def test_two_saves_from_the_same_revision_never_overwrite_each_other(app, world):
    piece = share(
        world["contributor"], world.home, title="Two hands", kind="poem", audience="circle"
    )
    url = f"/api/v1/items/{piece.public_id}/revisions"
    headers = world.viewers["contributor"].headers
    barrier = threading.Barrier(2)
    answers: list = []

    def save(words: str) -> None:
        client = app.test_client()
        barrier.wait(10)
        answers.append(client.post(url, headers=headers, json={"body": words, "base_revision": 1}))

    threads = [
        threading.Thread(target=save, args=(words,)) for words in ("first hands", "second hands")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(answer.status_code for answer in answers) == [201, 409]
    conflict = next(answer for answer in answers if answer.status_code == 409).get_json()
    assert conflict["current_revision"] == 2 and conflict["field"] == "base_revision"
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Revision).where(Revision.item_id == piece.id)
        )
        == 2
    )


def test_the_database_refuses_new_parts_for_a_withdrawn_item(app, world):
    piece = share(
        world["contributor"], world.home, title="Gone for good", kind="poem", audience="circle"
    )
    former_revision = piece.item().current_revision_id
    assert withdraw_signed_in(world.viewers["contributor"].client, piece).status_code == 200
    db.session.expire_all()
    statements = {
        "revision": "INSERT INTO revision (item_id, number, title, body, language, "
        "alt_text, note, created_at) VALUES (:item, 1, 'back', 'words', 'en', "
        "'', '', CURRENT_TIMESTAMP)",
        "media_asset": "INSERT INTO media_asset (public_id, item_id, derivatives, width, "
        "height, created_at) VALUES ('zz', :item, '{}', 1, 1, "
        "CURRENT_TIMESTAMP)",
    }
    for statement in statements.values():
        with pytest.raises(DBAPIError, match="withdrawn"):
            db.session.execute(sql(statement), {"item": piece.id})
        db.session.rollback()
    # a tag hangs from a revision, and the erasure left the item none to hang it from
    with pytest.raises(DBAPIError, match="(?i)foreign key"):
        db.session.execute(
            sql(
                "INSERT INTO revision_tag (revision_id, tag, position) "
                "VALUES (:revision, 'back', 0)"
            ),
            {"revision": former_revision},
        )
    db.session.rollback()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Revision).where(Revision.item_id == piece.id)
        )
        == 0
    )

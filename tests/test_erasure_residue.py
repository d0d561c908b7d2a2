"""THE RESIDUE TEST (design.md, "INVARIANT: withdrawal erases", step 3).

An artwork whose title, body, tags, alt text, edit notes and pseudonym carry two marker words is
contributed, edited twice and withdrawn through the web; then every purge and every compactor
runs and the database engine lets go of its files. After that, not one byte of either marker
may be left in any file the site keeps: the SQLite database with its write-ahead log and
shared memory, the search index, the media store, the instance folder, anything under the
test's folder. A marker found anywhere is erased text that someone could still read.

On PostgreSQL the same test reads every page of every relation of the site's database
(tables, indexes, TOAST, the catalogs; dead tuples and free space included) with
``pageinspect`` after a CHECKPOINT, and the database's files when the server is ours. The
tables are ANALYZEd before the withdrawal, as autovacuum would: the planner's statistics must
never have sampled what people wrote.
"""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from archive import purge
from archive.db import db
from archive.media.storage import media_folder, media_scheme
from archive.models import Item, Revision
from tests.erasure_helpers import (
    DEVANAGARI_MARKER,
    MARKER,
    Piece,
    media_files,
    photo,
    piece_of,
    text,
    withdraw_signed_in,
)
from tests.services import postgres

pytestmark = pytest.mark.both_databases


def needles() -> dict[str, bytes]:
    """Each marker as UTF-8 and as UTF-16-LE, and the romanized forms search may keep."""
    words = [MARKER, DEVANAGARI_MARKER]
    try:
        from archive.search.analyzer import roman_forms
    except ImportError:  # no romanized shadow field: nothing more to look for
        roman_forms = None
    if roman_forms is not None:
        words += [form for form in roman_forms(DEVANAGARI_MARKER) if len(form) >= 6]
    found = {}
    for word in dict.fromkeys(words):
        found[f"{word} (utf-8)"] = word.encode("utf-8")
        found[f"{word} (utf-16-le)"] = word.encode("utf-16-le")
    return found


def site_files(app, root: Path) -> dict[str, Path]:
    """Every file the site keeps: named ones first, then everything under the test folder."""
    files = {}
    if postgres.backend() == "sqlite":
        database = Path(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
        files = {
            f"database{suffix}": Path(f"{database}{suffix}")
            for suffix in ("", "-wal", "-shm", "-journal")
        }
    folders = {name: Path(app.config[name]) for name in ("INDEX_DIR", "INSTANCE_DIR")}
    if not media_scheme(app.config):  # media on S3 are listed by media_files instead
        folders["MEDIA"] = media_folder(app.config)
    for folder, base in folders.items():
        files.update({f"{folder}/{p.relative_to(base)}": p for p in base.rglob("*") if p.is_file()})
    files.update({f"tmp/{p.relative_to(root)}": p for p in root.rglob("*") if p.is_file()})
    return {name: path for name, path in files.items() if path.is_file()}


def residue(app, root: Path) -> list[str]:
    found = []
    for name, path in site_files(app, root).items():
        data = path.read_bytes()
        found += [f"{needle} in {name}" for needle, raw in needles().items() if raw in data]
    if postgres.backend() == "postgresql":
        found += [
            f"{hit} (database)"
            for hit in postgres.pages_holding(app.config["DATABASE_URL"], needles())
        ]
    return sorted(set(found))


def let_go_of_files(app) -> None:
    db.session.remove()
    db.engine.dispose()
    try:
        from archive.search import index
    except ImportError:
        return
    index.forget(Path(app.config["INDEX_DIR"]))


def artwork_form(image: bytes, **fields) -> dict:
    form = {
        "kind": "artwork",
        "title": f"{MARKER} {DEVANAGARI_MARKER} the kitchen wall",
        "body": f"I painted {MARKER} on the wall. {DEVANAGARI_MARKER} आज फिर।",
        "language": "hi",
        "tags": f"{MARKER}, {DEVANAGARI_MARKER}, rangoli",
        "alt_text": f"A painting of {MARKER}, {DEVANAGARI_MARKER}, in red and blue",
        "audience": "public",
        "attribution": "pseudonym",
        "pseudonym": f"{MARKER} {DEVANAGARI_MARKER}",
        "review_by": "",
        "contributor": "me",
        "image": (io.BytesIO(image), "wall.jpg", "image/jpeg"),
    }
    form.update(fields)
    return form


def edit(client, piece: Piece, **fields):
    form = {
        "title": f"{MARKER} {DEVANAGARI_MARKER} the kitchen wall, again",
        "body": f"Version two of {MARKER}. {DEVANAGARI_MARKER}",
        "language": "hi",
        "tags": f"{MARKER}, {DEVANAGARI_MARKER}",
        "note": f"added {MARKER}",
        "alt_text": f"A painting of {MARKER}, {DEVANAGARI_MARKER}",
    }
    form.update(fields)
    return client.post_form(f"{piece.url}/edit", form, content_type="multipart/form-data")


def share_artwork(circle, client) -> Piece:
    """The painter's artwork, contributed through the web with markers everywhere."""
    shared = client.post_form(
        f"/circles/{circle.slug}/contribute",
        artwork_form(photo()),
        content_type="multipart/form-data",
    )
    assert shared.status_code == 303, text(shared)[:2000]
    db.session.expire_all()
    return piece_of(db.session.scalars(select(Item)).one())


@pytest.fixture
def painter(app, make_circle, make_account, signed_in):
    circle = make_circle("rang", "Rang circle")
    return circle, signed_in(make_account("chitra", circle=circle))


@pytest.mark.media_backends
def test_nothing_of_a_withdrawn_artwork_is_left_in_any_file(app, painter, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    circle, client = painter
    piece = share_artwork(circle, client)
    assert edit(client, piece).status_code == 302
    assert (
        edit(
            client,
            piece,
            body=f"Version three, {MARKER} {DEVANAGARI_MARKER}",
            note=f"new photo {DEVANAGARI_MARKER}",
            image=(io.BytesIO(photo((30, 140, 90))), "wall2.jpg", "image/jpeg"),
        ).status_code
        == 302
    )
    db.session.expire_all()
    piece = piece_of(piece.item())
    assert len(piece.media) == 2 and len(piece.media_keys) >= 4
    assert set(piece.media_keys) <= media_files(app)
    shown = db.session.execute(select(Revision.html, Revision.excerpt, Revision.description))
    assert all(MARKER in part for row in shown for part in row), (
        "the words readers are shown, rendered when saved, carry the markers too"
    )
    if postgres.backend() == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as analyze:
            analyze.exec_driver_sql("ANALYZE")
    before = residue(app, tmp_path)
    assert any(" in database" in found or "(database)" in found for found in before), (
        "the test is blind to the DB"
    )
    if postgres.backend() == "postgresql":
        assert not any("pg_statistic" in found for found in before), (
            "ANALYZE copied what people wrote into the planner's statistics"
        )
    if any(Path(app.config["INDEX_DIR"]).iterdir()):
        assert any(" in INDEX_DIR/" in found for found in before), "blind to the index"

    assert withdraw_signed_in(client, piece).status_code == 200
    purge.run_pending()
    for compact in list(purge.COMPACTORS.values()):
        compact()
    let_go_of_files(app)

    assert residue(app, tmp_path) == []
    assert not media_files(app) & set(piece.media_keys), "artwork files are still on disk"
    assert media_files(app) == set(), "something of the artwork is still in the media store"
    for word in (MARKER, DEVANAGARI_MARKER):
        assert word not in caplog.text, "the log holds what was written"


@pytest.mark.both_databases("postgresql")
def test_a_reader_that_began_before_the_erasure_is_waited_for(app, painter, tmp_path):
    """A transaction that took its snapshot before the erasure (a request, autovacuum's
    ANALYZE) still sees the rows: rewritten while it is open, the table would keep them.
    The rewrite waits for it (`purge.OLDER_TRANSACTIONS_WAIT`)."""
    from sqlalchemy import text as sql

    circle, client = painter
    piece = share_artwork(circle, client)
    db.session.commit()
    reader = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    reader.begin()
    # a snapshot, and no lock on the erased tables (a lock alone would make the rewrite wait)
    assert reader.execute(sql("SELECT count(*) FROM account")).scalar() == 1
    _withdraw_while_open(app, client, piece, tmp_path, close=reader.close)


@pytest.mark.both_databases("postgresql")
def test_a_write_in_another_database_that_began_before_the_erasure_is_waited_for(
    app, painter, tmp_path
):
    """A snapshot's horizon is the oldest transaction still writing anywhere on the server:
    while another database runs a long write (here an open transaction holding an id, as a
    ``CREATE DATABASE`` does), the rewrite's own snapshot still counts the erased rows as
    visible and copies them. The rewrite waits for it too."""
    circle, client = painter
    piece = share_artwork(circle, client)
    db.session.commit()
    elsewhere = postgres._connect("postgres")
    elsewhere.autocommit = False
    elsewhere.execute("SELECT txid_current()")  # a transaction that holds an id
    _withdraw_while_open(app, client, piece, tmp_path, close=elsewhere.close)


def _withdraw_while_open(app, client, piece, tmp_path, close) -> None:
    """Withdraw ``piece`` while a transaction is open; ``close`` ends it a second later.
    Afterwards no file of the database may hold the piece's words."""
    later = threading.Timer(1.0, close)
    later.start()
    assert withdraw_signed_in(client, piece).status_code == 200
    later.join()
    let_go_of_files(app)
    assert not [found for found in residue(app, tmp_path) if "(database)" in found]

"""Offline packs: a public collection as a zip of plain HTML pages, to read on a phone without
a connection or to print as a zine.

Only public entries whose authors agreed to packs go in, as the access rule decides. A pack
is never stale: it is cached in ``<instance>/packs/`` under a fingerprint of everything that
goes into it, served only while that fingerprint still matches, and dropped (by a purge) as
soon as the consent of any piece in it changes or the piece is erased. Each cached zip has a
small manifest beside it naming the collection and the items inside, so a purge finds every
pack that holds a piece, even one a curator has since taken out.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Optional

from flask import current_app, render_template
from flask_babel import get_locale
from sqlalchemy import select

from archive import access, background, purge
from archive.db import db
from archive.labels import largest
from archive.media.storage import MediaNotFound, storage_from_config
from archive.models import Collection, Entry, Item
from archive.text import without_links

#: raise when the layout of a pack changes, so every cached pack is rebuilt
PACK_FORMAT = 2


@dataclass
class Picture:
    path: str
    width: int
    height: int
    key: str


@dataclass
class Piece:
    """One entry as it goes into the pack: page number, words and pictures."""

    number: int
    entry: Entry
    body: str
    pictures: dict[str, Picture] = field(default_factory=dict)

    @property
    def item(self) -> Item:
        return self.entry.item


def pack_entries(collection: Collection) -> list[Entry]:
    return access.shown_entries(None, collection, public_only=True, permission="allow_packs")


def folder() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "packs"


# --- the cache ------------------------------------------------------------------------------


def fingerprint(collection: Collection, entries: list[Entry], day: date) -> str:
    """A digest of everything that goes into the pack except the reader's language."""
    parts = {
        "format": PACK_FORMAT,
        "day": day.isoformat(),
        "style": _style_digest(),
        "collection": [
            collection.id,
            collection.state,
            collection.title,
            collection.current_intro_id,
            collection.circle.name,
        ],
        "entries": [
            [
                entry.item_id,
                entry.item.current_revision_id,
                entry.item.consent and entry.item.consent.updated_at.isoformat(),
                entry.position,
                entry.note,
                access.byline(entry.item),
            ]
            for entry in entries
        ],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:40]


def cached_pack(collection: Collection) -> Path:
    """The pack of a public collection in the current language: the cached file while its
    fingerprint matches, else built now (and older packs of the collection dropped)."""
    if collection.state != "public":
        raise ValueError("only a public collection has an offline pack")
    entries = pack_entries(collection)
    day = access.today()
    content = fingerprint(collection, entries, day)
    path = folder() / f"{collection.id}-{content}.{get_locale() or 'en'}.zip"
    if path.is_file() and _manifest(path) is not None:
        return path
    data = build(collection, entries, day)
    _write(
        path.with_suffix(".json"),
        json.dumps(
            {"collection": collection.id, "items": [entry.item_id for entry in entries]}
        ).encode(),
    )
    _write(path, data)
    for older in folder().glob(f"{collection.id}-*.zip"):
        if not older.name.startswith(f"{collection.id}-{content}."):
            _remove(older)
    return path


def drop(collections=(), items=()) -> int:
    """Delete every cached pack of these collections or holding any of these items (and any
    pack whose manifest is missing). Idempotent; returns how many went."""
    if not folder().is_dir():
        return 0
    collections, items, dropped = set(collections), set(items), 0
    for path in folder().glob("*.zip"):
        manifest = _manifest(path)
        if (
            manifest is None
            or manifest["collection"] in collections
            or items & set(manifest["items"])
        ):
            _remove(path)
            dropped += 1
    for orphan in folder().glob("*.json"):
        if not orphan.with_suffix(".zip").exists():
            orphan.unlink(missing_ok=True)
    return dropped


def holding(item_id: int) -> bool:
    """Does any cached pack hold this item?"""
    if not folder().is_dir():
        return False
    return any(
        item_id in (_manifest(path) or {"items": [item_id]})["items"]
        for path in folder().glob("*.zip")
    )


def queue_drop(item: Item) -> None:
    """Consent hook (change and erasure): queue the purge of every cached pack that holds the
    item or belongs to a collection holding it. Runs before the collection hooks take the
    entries out, so it still sees them."""
    collections = sorted(
        set(db.session.scalars(select(Entry.collection_id).where(Entry.item_id == item.id)))
    )
    if collections or holding(item.id):
        purge.queue("packs", collections=collections, items=[item.id])
        background.after_commit(purge.run_pending)


@purge.handler("packs")
def _purge_packs(payload: dict) -> None:
    drop(payload.get("collections", []), payload.get("items", []))


def _manifest(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return None


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader never gets half a zip."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)


def _style_path() -> Path:
    return Path(str(current_app.static_folder)) / "style.css"


def _style_digest() -> str:
    return hashlib.sha256(_style_path().read_bytes()).hexdigest()


# --- building -------------------------------------------------------------------------------


def build(collection: Collection, entries: list[Entry], day: date) -> bytes:
    """The zip: index.html, pieces/<n>.html, style.css and derivatives only. Relative links,
    no script, no address of any site."""
    storage = storage_from_config(current_app.config)
    pieces = [_piece(number, entry) for number, entry in enumerate(entries, 1)]
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as pack:

        def add(name: str, data: bytes, compress: int = zipfile.ZIP_DEFLATED) -> None:
            pack.writestr(zipfile.ZipInfo(name, stamp), data, compress_type=compress)

        context = {
            "collection": collection,
            "pieces": pieces,
            "day": day,
            "intro": without_links(collection.intro.html) if collection.intro else "",
        }
        add("index.html", render_template("packs/index.html", root="", **context).encode())
        add("style.css", _style_path().read_bytes())
        for index, piece in enumerate(pieces):
            page = render_template(
                "packs/piece.html",
                root="../",
                piece=piece,
                previous=pieces[index - 1] if index else None,
                next=pieces[index + 1] if index + 1 < len(pieces) else None,
                **context,
            )
            add(f"pieces/{piece.number}.html", page.encode())
            for picture, data in _stored(storage, piece):
                add(picture.path, data, zipfile.ZIP_STORED)
    return buffer.getvalue()


def _piece(number: int, entry: Entry) -> Piece:
    rev = entry.item.current
    assert rev is not None  # an entry's piece is not taken back: its entries go with it
    piece = Piece(number=number, entry=entry, body=without_links(rev.html))
    if rev.media is not None:
        derivatives = rev.media.derivatives
        for name, wanted, suffix in (
            ("display", largest(derivatives), ""),
            ("thumb", "thumb", "-thumb"),
        ):
            chosen = derivatives.get(wanted) or derivatives[largest(derivatives)]
            piece.pictures[name] = Picture(
                f"images/{number}{suffix}.webp", chosen["width"], chosen["height"], chosen["key"]
            )
    return piece


def _stored(storage, piece: Piece):
    for picture in piece.pictures.values():
        try:
            yield picture, storage.get(picture.key)
        except MediaNotFound:
            continue


def write_pack(collection: Collection, out: Path) -> Path:
    """For the CLI: copy the (cached or fresh) pack to ``out/<slug>.zip``."""
    source = cached_pack(collection)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{collection.slug}.zip"
    _write(target, source.read_bytes())
    return target

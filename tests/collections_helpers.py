"""Helpers for the collection tests (pages and API): pieces contributed with consent to
collections, collections made through the operations, and a look at what is stored."""

from __future__ import annotations

from sqlalchemy import func, select

from archive.db import commit, db
from archive.models import Collection, CollectionIntro, ShareLink
from archive.operations import collections as ops
from archive.operations import items as item_ops
from archive.operations.consent import ConsentChoice
from tests.erasure_helpers import Piece, piece_of


def share_piece(
    by,
    circle,
    title: str,
    *,
    audience="public",
    collections=True,
    attribution="name",
    pseudonym="",
    language="en",
    body="",
) -> Piece:
    """Contribute a know-how for oneself and commit, as one request would."""
    draft = item_ops.Draft(
        kind="knowhow", title=title, body=body or f"{title}: what helped", language=language
    )
    choice = ConsentChoice(
        audience=audience,
        attribution=attribution,
        pseudonym=pseudonym,
        collections=collections,
        method="self",
    )
    result = item_ops.contribute(by, circle, item_ops.contributor_for(by), draft, choice)
    commit()
    return piece_of(result.item, result.receipt.withdrawal_code)


def make_collection(
    by, circle, slug: str, pieces=(), state="draft", intro="", title="Know-hows"
) -> str:
    items = [piece.item() for piece in pieces]  # (this expires the session: do it first)
    collection = ops.create(by, circle, slug, title, intro)
    for number, item in enumerate(items, 1):
        ops.add_entry(by, collection, item, f"note {number}")
    ops.set_state(by, collection, state)
    commit()
    return slug


def collection(slug: str) -> Collection:
    db.session.expire_all()
    return db.session.scalar(select(Collection).where(Collection.slug == slug))


def entry_titles(slug: str) -> list[str]:
    return [entry.item.current.title for entry in collection(slug).entries]


def entry_id(slug: str, title: str) -> int:
    return next(e.id for e in collection(slug).entries if e.item.current.title == title)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot(slug: str) -> dict:
    found = collection(slug)
    return {
        "title": found.title,
        "state": found.state,
        "intro": found.intro.body if found.intro else None,
        "entries": [(e.item_id, e.position, e.note) for e in found.entries],
        "intros": count(CollectionIntro),
        "links": count(ShareLink),
    }

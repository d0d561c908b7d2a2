"""My pieces: everything a person shared, or that a facilitator recorded for them, in one
place — who may see each piece now, how it is signed, its review date, where it appears, how
often someone else changed it — with a tap to narrow it or take it back."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Optional

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from archive import access
from archive.db import db
from archive.labels import audience_label
from archive.models import Collection, Entry, Item
from archive.numbers import page_number
from archive.web import ledger

bp = Blueprint("mine", __name__)
#: pieces a page lists: a page stays within 30 KB in Hindi (about 1 KB a piece)
PAGE_SIZE = 12


@dataclass
class Piece:
    """One of my pieces as the page shows it."""

    item: Item
    label: Optional[str]
    byline: Optional[str]
    waiting: bool  # a proposal: recorded for me, waiting for my yes
    review_passed: bool  # so for now only I see it
    collections: list[Collection] = field(default_factory=list)
    changes_by_others: int = 0


@bp.get("/account/pieces")
@login_required
def pieces():
    page = page_number()
    found = list(
        db.session.scalars(
            access.select_own(current_user).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        )
    )
    shown = [_piece(item) for item in found[:PAGE_SIZE]]
    _add_places(shown)
    return render_template("mine/pieces.html", pieces=shown, page=page, more=len(found) > PAGE_SIZE)


def _piece(item: Item) -> Piece:
    return Piece(
        item=item,
        label=audience_label(item, current_user, everyone=True),
        byline=access.byline(item),
        waiting=item.state == "proposed",
        review_passed=item.consent is not None and item.consent.review_passed(access.today()),
    )


def _add_places(shown: list[Piece]) -> None:
    """The collections each piece is in (those I may open) and the changes others made: one
    query each, however many pieces."""
    by_id = {piece.item.id: piece for piece in shown}
    if not by_id:
        return
    rows = db.session.execute(
        access.visible_collections(current_user)
        .join(Entry, Entry.collection_id == Collection.id)
        .where(Entry.item_id.in_(sorted(by_id)))
        .add_columns(Entry.item_id)
        .order_by(Collection.title, Collection.id)
    )
    places = defaultdict(list)
    for collection, item_id in rows:
        places[item_id].append(collection)
    changes = ledger.changes_by_others(current_user, [p.item.public_id for p in shown])
    for item_id, piece in by_id.items():
        piece.collections = places[item_id]
        piece.changes_by_others = changes.get(piece.item.public_id, 0)

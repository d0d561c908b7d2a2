"""Curating: collections, their versioned introduction, ordered entries, states, share
links. Consent decides what may enter; a consent change or a withdrawal takes entries out
at once (``leave_where_no_longer_allowed`` runs as a consent hook)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Optional

from flask_babel import LazyString, gettext, lazy_ngettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from archive import access, background, passwords, purge, slugs, text
from archive.db import db, first_time, savepoint, utcnow
from archive.models import (
    STATES,
    Account,
    Circle,
    Collection,
    CollectionIntro,
    Entry,
    Item,
    ShareLink,
)
from archive.operations import Refused
from archive.operations.consent import hold
from archive.text import nfc, one_line

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
MAX_INTRO = 20_000
#: slugs are shared by every circle: a taken one says nothing of whose it is
SLUG_TAKEN = _l("Please choose another web address for this collection.")
#: a piece the curator may not see is answered as one that does not exist
PIECE_NOT_FOUND = _l("That piece was not found.")
ENTRY_NOT_FOUND = _l("That entry is not in this collection.")


def create(
    by: Account,
    circle: Circle,
    slug: Optional[str],
    title: str,
    intro: str = "",
    state: str = "draft",
) -> Collection:
    """``slug`` None: the address is made from the title (`slugs.from_title`)."""
    if not access.may_manage_circle(by, circle):
        raise Refused(_l("Only a facilitator of the circle can make its collections."), status=403)
    slug = slugs.from_title(title) if slug is None else (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise Refused(
            _l("A short name for links uses 3 to 64 small letters, digits and hyphens."),
            field="slug",
        )
    if db.session.scalar(select(Collection.id).where(Collection.slug == slug)):
        raise Refused(SLUG_TAKEN, field="slug")
    collection = Collection(
        slug=slug, title=_title(title), circle=circle, curator=by, state="draft"
    )
    _insert_unless_taken(collection)
    if intro:
        revise_intro(by, collection, intro)
    if state != "draft":
        set_state(by, collection, state)
    return collection


def _insert_unless_taken(collection: Collection) -> None:
    """The insert is the final check: a slug taken meanwhile by another request is refused
    as any taken slug is."""
    try:
        with savepoint():
            db.session.add(collection)
    except IntegrityError as error:
        if "slug" not in str(error.orig):
            raise
        raise Refused(SLUG_TAKEN, field="slug") from None


def _title(title: str) -> str:
    title = one_line(title)
    if not title or len(title) > 200:
        raise Refused(
            _l("Please give the collection a title (up to 200 characters)."), field="title"
        )
    return title


def update(by: Account, collection: Collection, title: str, intro: str) -> None:
    _curate(by, collection)
    collection.title = _title(title)
    current = collection.intro.body if collection.intro else ""
    if nfc(intro).strip() != current:
        revise_intro(by, collection, intro)
    collection.updated_at = utcnow()
    db.session.flush()


def revise_intro(by: Account, collection: Collection, body: str) -> CollectionIntro:
    """A new version of the introduction; earlier ones stay."""
    body = nfc(body).strip()
    if len(body) > MAX_INTRO:
        raise Refused(
            lazy_ngettext(
                "Please keep the introduction under %(num)d character.",
                "Please keep the introduction under %(num)d characters.",
                MAX_INTRO,
            ),
            field="intro",
        )
    number = (
        db.session.scalar(
            select(func.max(CollectionIntro.number)).where(
                CollectionIntro.collection_id == collection.id
            )
        )
        or 0
    ) + 1
    shown = text.rendered(body)
    intro = CollectionIntro(
        collection_id=collection.id,
        number=number,
        body=body,
        author_id=by.id,
        html=shown.html,
        description=shown.description,
    )
    db.session.add(intro)
    db.session.flush()
    collection.intro = intro
    db.session.flush()
    return intro


def _curate(by: Account, collection: Collection) -> None:
    """Only curators change a collection; any change makes its cached offline packs stale,
    and those go (they hold its pieces' words)."""
    if not access.may_curate(by, collection):
        raise Refused(
            _l("Only a facilitator of the circle can change this collection."), status=403
        )
    if collection.id is not None and first_time(("packs-stale", collection.id)):
        purge.queue("packs", collections=[collection.id])
        background.after_commit(purge.run_pending)


def add_entry(by: Account, collection: Collection, item: Optional[Item], note: str = "") -> Entry:
    """A piece the curator may not see (or that was taken back) is refused exactly as an
    unknown one (``item`` None). Consent is read under the item's lock: an entry added while
    a narrowing or an erasure commits waits for it, then is refused rather than left
    behind."""
    _curate(by, collection)
    if item is None or not access.may_view_item(by, item):
        raise Refused(PIECE_NOT_FOUND, field="item")
    hold(item)
    if not access.may_view_item(by, item):
        raise Refused(PIECE_NOT_FOUND, field="item")
    if not access.may_enter_collection(item, collection):
        raise Refused(
            _l(
                "This piece cannot go into this collection: its author has not "
                "agreed to that (or, for a public collection, it is not public)."
            ),
            field="item",
        )
    if any(entry.item_id == item.id for entry in collection.entries):
        raise Refused(_l("This piece is already in the collection."), field="item")
    position = max((entry.position for entry in collection.entries), default=0) + 1
    entry = Entry(
        collection=collection,
        item=item,
        position=position,
        note=one_line(note)[:500],
        added_by_id=by.id,
    )
    db.session.add(entry)
    collection.updated_at = utcnow()
    db.session.flush()
    return entry


def _seen_entries(by: Account, collection: Collection) -> list[Entry]:
    """The entries the curator sees, in order: one whose piece is hidden from them (an
    account holder's private piece; a circle's piece, for an admin outside the circle) is
    neither found nor moved past nor changed by them."""
    return sorted(access.shown_entries(by, collection), key=lambda e: e.position)


def _entry(by: Account, collection: Collection, entry_id: int) -> Entry:
    for entry in _seen_entries(by, collection):
        if entry.id == entry_id:
            return entry
    raise Refused(ENTRY_NOT_FOUND, status=404)


def move_entry(by: Account, collection: Collection, entry_id: int, step: int) -> None:
    """Move one place up (-1) or down (+1) among the entries the curator sees; past either
    end is refused."""
    _curate(by, collection)
    ordered = _seen_entries(by, collection)
    entry = _entry(by, collection, entry_id)
    index = ordered.index(entry)
    other = index + (1 if step > 0 else -1)
    if not 0 <= other < len(ordered):
        raise Refused(_l("It is already at that end of the collection."))
    entry.position, ordered[other].position = ordered[other].position, entry.position
    collection.updated_at = utcnow()
    db.session.flush()


def set_note(by: Account, collection: Collection, entry_id: int, note: str) -> None:
    _curate(by, collection)
    _entry(by, collection, entry_id).note = one_line(note)[:500]
    db.session.flush()


def remove_entry(by: Account, collection: Collection, entry_id: int) -> None:
    _curate(by, collection)
    collection.entries.remove(_entry(by, collection, entry_id))
    collection.updated_at = utcnow()
    db.session.flush()


def set_state(by: Account, collection: Collection, state: str) -> None:
    _curate(by, collection)
    if state not in STATES:
        raise Refused(_l("Please choose draft, circle or public."), field="state")
    if state == "public":
        blocking = [
            e.item
            for e in collection.entries
            if access.effective_audience(e.item.consent) != "public"
        ]
        if blocking:
            shown = [item for item in blocking if access.may_view_item(by, item)]
            raise NotPublic(
                [(item, access.effective_audience(item.consent)) for item in shown],
                hidden=len(blocking) - len(shown),
            )
    collection.state = state
    collection.updated_at = utcnow()
    db.session.flush()


#: a blocking piece's audience, in the refusal's words
NOT_PUBLIC_AUDIENCE = {"circle": _l("only the circle"), "private": _l("private")}


class NotPublic(Refused):
    """A collection holding pieces that are not public cannot be made public. ``pieces``:
    those the curator may see, in the collection's order, each with its audience now (a
    passed review date counts as private); ``hidden``: how many more, never named."""

    def __init__(self, pieces: list[tuple[Item, str]], hidden: int):
        super().__init__(LazyString(_not_public, pieces, hidden), field="state")
        self.pieces, self.hidden = pieces, hidden


def _not_public(pieces: list[tuple[Item, str]], hidden: int) -> str:
    said = []
    if pieces:
        named = ", ".join(
            gettext(
                "“%(title)s” (%(audience)s)",
                title=item.current.title if item.current else "",
                audience=NOT_PUBLIC_AUDIENCE[audience],
            )
            for item, audience in pieces
        )
        said.append(
            ngettext(
                "This piece is not public: %(pieces)s.",
                "These pieces are not public: %(pieces)s.",
                len(pieces),
                pieces=named,
            )
        )
    if hidden:
        said.append(
            ngettext(
                "%(num)d piece that you cannot see is not public.",
                "%(num)d pieces that you cannot see are not public.",
                hidden,
            )
        )
    said.append(gettext("A public collection holds only public pieces: take those out first."))
    return " ".join(said)


def seen_removals(by: Account, collection: Collection) -> None:
    _curate(by, collection)
    collection.removed_unseen = 0
    db.session.flush()


# --- consent hooks: entries leave at once ------------------------------------------------


def leave_where_no_longer_allowed(item: Item) -> None:
    """After a consent change: the item leaves every collection it may no longer be in.
    The curator is told that an entry left, never which."""
    for entry in list(db.session.scalars(select(Entry).where(Entry.item_id == item.id))):
        collection = entry.collection
        if not access.may_enter_collection(item, collection):
            collection.entries.remove(entry)
            collection.removed_unseen += 1
            collection.updated_at = utcnow()
    db.session.flush()


def leave_everything(item: Item) -> None:
    """Within an erasure: every entry of the item goes."""
    touched = db.session.scalars(select(Collection).join(Entry).where(Entry.item_id == item.id))
    for collection in touched:
        collection.removed_unseen += 1
        collection.updated_at = utcnow()
    db.session.execute(delete(Entry).where(Entry.item_id == item.id))
    db.session.flush()


# --- share links --------------------------------------------------------------------------


def create_share_link(by: Account, collection: Collection, days: int) -> str:
    _curate(by, collection)
    if collection.state == "draft":
        raise Refused(_l("Share a collection once it is ready for its circle."), field="days")
    if not 1 <= days <= 90:
        raise Refused(_l("A share link can last from 1 to 90 days."), field="days")
    token = passwords.new_secret()
    db.session.add(
        ShareLink(
            collection=collection,
            token_hash=passwords.digest(token),
            created_by_id=by.id,
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    db.session.flush()
    return token


def revoke_share_link(by: Account, collection: Collection, link_id: int) -> None:
    _curate(by, collection)
    link = db.session.get(ShareLink, link_id)
    if link is None or link.collection_id != collection.id:
        raise Refused(_l("That link was not found."), status=404)
    link.revoked_at = link.revoked_at or utcnow()
    db.session.flush()


def open_share_link(token: str) -> Optional[Collection]:
    """The collection behind a live link, or None (expired, revoked, unknown: all alike)."""
    link = db.session.scalar(
        select(ShareLink).where(ShareLink.token_hash == passwords.digest(token or ""))
    )
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        return None
    if link.collection.state == "draft":
        return None
    return link.collection


def left_out_by_share_link(collection: Collection) -> int:
    """How many entries a share link will not show (not public, or no consent)."""
    shown = access.shown_entries(None, collection, public_only=True)
    return len(collection.entries) - len(shown)

"""Contributing and revising items. Every save is a new, append-only revision."""

from __future__ import annotations

import errno
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Optional

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select

from archive import access, search, text
from archive.db import db, on_rollback, utcnow
from archive.media import images
from archive.media.storage import storage_from_config, store_processed
from archive.models import (
    KINDS,
    LANGUAGES,
    Account,
    Circle,
    Contributor,
    Item,
    MediaAsset,
    Revision,
    RevisionTag,
)
from archive.operations import Problems, Refused
from archive.operations.consent import ConsentChoice, Receipt, check_grant, grant
from archive.operations.withdraw import LIVE, hold_active
from archive.text import nfc, one_line

MAX_TITLE = 200
#: characters that take no space: a title of only these is no title
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
MAX_BODY = 50_000
MAX_TAGS = 12
MAX_TAG = 40
TAG = re.compile(r"^[\w\u0900-\u097F\u200c\u200d][\w\u0900-\u097F\u200c\u200d '’-]*$")
#: what a store says when it has no room left (a full disk, a used-up quota)
NO_ROOM = (errno.ENOSPC, errno.EDQUOT)
log = logging.getLogger("archive.items")


@dataclass
class Draft:
    """What a person submits for an item: one revision's worth of content."""

    kind: str
    title: str
    body: str = ""
    language: str = "en"
    tags: list[str] | str = field(default_factory=list)  # as typed, until checked
    alt_text: str = ""
    #: the uploaded bytes, or a picture already processed (a photo kept from a form's
    #: earlier send, ``archive.web.photo_drafts``)
    image: Optional[bytes | images.ProcessedImage] = None
    note: str = ""


@dataclass
class Contribution:
    item: Item
    receipt: Optional[Receipt]  # None for a proposal: the receipt waits for its member


def public_id() -> str:
    """An unguessable id for URLs (96 random bits), never starting with "-" (a command line
    would read it as an option)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if candidate[0] not in "-_":
            return candidate


# --- contributors -------------------------------------------------------------------------


def contributor_for(account: Account) -> Contributor:
    """The contributor profile of an account holder (made on first use)."""
    found = db.session.scalar(select(Contributor).where(Contributor.account_id == account.id))
    if found is None:
        found = Contributor(account=account)
        db.session.add(found)
        db.session.flush()
    return found


def create_profile(by: Account, circle: Circle, pseudonym: str) -> Contributor:
    """A profile for someone without an account, kept by ``circle``: a pseudonym only.
    Only the circle's facilitators keep such profiles."""
    if not access.is_facilitator(by, circle):
        raise Refused(
            _l("Only a facilitator of the circle records for someone without an account."),
            field="contributor",
            status=403,
        )
    pseudonym = one_line(pseudonym)
    if not 1 <= len(pseudonym) <= 80:
        raise Refused(_l("Please give a pseudonym of up to 80 characters."), field="pseudonym")
    profile = Contributor(circle=circle, pseudonym=pseudonym, created_by_id=by.id)
    db.session.add(profile)
    db.session.flush()
    return profile


# --- checking what was submitted -----------------------------------------------------------


def clean_tags(raw: list[str] | str) -> list[str]:
    """Tags as a circle's vocabulary keeps them: NFC, lower case, single spaces, no markup."""
    if isinstance(raw, str):
        raw = raw.split(",")
    tags: list[str] = []
    for tag in raw:
        tag = one_line(tag).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG or not TAG.match(tag):
            raise Refused(
                _l(
                    "A tag is a word or a few words (up to 40 letters), without "
                    "symbols such as < > or &."
                ),
                field="tags",
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise Refused(
            lazy_ngettext(
                "Please use at most %(num)d tag.", "Please use at most %(num)d tags.", MAX_TAGS
            ),
            field="tags",
        )
    return tags


def check_draft(draft: Draft, *, needs_image: bool, has_picture: bool = False) -> Draft:
    """The draft as it is kept, or `Refused` naming every problem in it at once.
    ``has_picture``: the revision keeps an earlier picture, so it needs alt text too."""
    problems = Problems()
    if draft.kind not in KINDS:
        problems.add(_l("Please choose what kind of piece this is."), "kind")
    if draft.language not in LANGUAGES:
        problems.add(_l("Please choose the language it is written in."), "language")
    title = one_line(draft.title)
    if not title.strip(INVISIBLE):
        problems.add(_l("Please give it a title."), "title")
    elif len(title) > MAX_TITLE:
        problems.add(
            lazy_ngettext(
                "Please keep the title under %(num)d character.",
                "Please keep the title under %(num)d characters.",
                MAX_TITLE + 1,
            ),
            "title",
        )
    body = nfc(draft.body).strip("\n")
    if draft.kind != "artwork" and not body.strip():
        problems.add(_l("Please write something in the text box."), "body")
    elif len(body) > MAX_BODY:
        problems.add(
            lazy_ngettext(
                "This is longer than we can keep in one piece (%(num)d "
                "character). Please split it in two.",
                "This is longer than we can keep in one piece (%(num)d "
                "characters). Please split it in two.",
                MAX_BODY,
            ),
            "body",
        )
    if draft.kind == "artwork" and needs_image and draft.image is None:
        problems.add(_l("Please choose a photo of the artwork."), "image")
    alt_text = one_line(draft.alt_text)
    if (draft.kind == "artwork" or draft.image is not None or has_picture) and not alt_text:
        problems.add(
            _l("Please describe the artwork in a sentence or two for people who cannot see it."),
            "alt_text",
        )
    elif len(alt_text) > 1000:
        problems.add(_l("Please keep the description under 1000 characters."), "alt_text")
    tags: list[str] = []
    with problems.gathered():
        tags = clean_tags(draft.tags)
    problems.raise_any()
    return Draft(
        kind=draft.kind,
        title=title,
        body=body,
        language=draft.language,
        tags=tags,
        alt_text=alt_text,
        image=draft.image,
        note=one_line(draft.note)[:200],
    )


def check_contribution(
    draft: Draft, choice: ConsentChoice, *, for_self: bool, proposal: bool
) -> tuple[Draft, Optional[images.ProcessedImage]]:
    """Every problem of a new piece at once — its words, its picture and its consent — or
    the checked draft and its processed picture. Writes nothing (a form's first check)."""
    problems = Problems()
    checked, processed = draft, None
    with problems.gathered():
        checked = check_draft(draft, needs_image=True)
    with problems.gathered():
        processed = _process(draft.image)
    with problems.gathered():
        check_grant(choice, for_self=for_self, proposal=proposal)
    problems.raise_any()
    return checked, processed


# --- writing -------------------------------------------------------------------------------


def contribute(
    by: Account, circle: Circle, contributor: Contributor, draft: Draft, choice: ConsentChoice
) -> Contribution:
    """A new item with its first revision and its consent, and the receipt for it (none
    when it is a proposal to a member, who receives it on agreeing: ``consent.grant``)."""
    if not access.may_contribute_for(by, contributor, circle):
        raise Refused(_l("Please choose whose piece this is."), field="contributor", status=403)
    for_self = contributor.account_id == by.id
    draft, processed = check_contribution(
        draft, choice, for_self=for_self, proposal=not for_self and contributor.has_account
    )
    item = Item(public_id=public_id(), kind=draft.kind, circle=circle, contributor=contributor)
    db.session.add(item)
    db.session.flush()
    receipt = grant(item, choice, by=by, language=draft.language)
    _new_revision(item, draft, by, media=_store_image(item, processed))
    return Contribution(item=item, receipt=receipt)


class EditConflict(Refused):
    """The edit started from a revision that is no longer the current one: someone saved in
    between. Nothing is saved; ``current`` is what was saved meanwhile."""

    def __init__(self, current: Revision):
        super().__init__(
            _l(
                "Someone saved a newer version while you were editing. Your "
                "text is kept below: compare it with what was saved, then save "
                "again."
            ),
            status=409,
        )
        self.current = current


def revise(by: Account, item: Item, draft: Draft, base: Optional[int] = None) -> Revision:
    """Save an edit as a new revision; replacing the artwork is an edit too. ``base``: the
    revision number the edit started from; if another was saved since, ``EditConflict``."""
    processed = _process(draft.image)  # before holding the item: it takes a while
    _hold_for_edit(by, item, base)
    current = item.current
    assert current is not None  # held active
    draft = check_revision(item, draft)
    media = _store_image(item, processed) if processed is not None else current.media
    if (
        current.title,
        current.body,
        current.language,
        current.tags,
        current.alt_text,
        current.media_asset_id,
    ) == (
        draft.title,
        draft.body,
        draft.language,
        draft.tags,
        draft.alt_text,
        media.id if media else None,
    ):
        raise Refused(_l("Nothing has changed yet. Edit something, then save."))
    return _new_revision(item, draft, by, media=media)


def check_revision(item: Item, draft: Draft) -> Draft:
    """An edit's draft as it is kept, or `Refused` naming every problem at once."""
    assert item.kind is not None and item.current is not None  # an item edited is active
    draft.kind = item.kind
    return check_draft(draft, needs_image=False, has_picture=item.current.media is not None)


def restore(by: Account, item: Item, number: int, base: Optional[int] = None) -> Revision:
    """Bring back an earlier revision by copying it into a new one (history stays whole)."""
    _hold_for_edit(by, item, base)
    old = revision(item, number)
    if old is None:
        raise Refused(_l("That version was not found."), status=404)
    if old.id == item.current_revision_id:
        raise Refused(_l("This is already the current version."))
    assert item.kind is not None  # held active
    draft = Draft(
        kind=item.kind,
        title=old.title,
        body=old.body,
        language=old.language,
        tags=old.tags,
        alt_text=old.alt_text,
    )
    return _new_revision(item, draft, by, media=old.media, restored_from=old.number)


def _hold_for_edit(by: Account, item: Item, base: Optional[int]) -> None:
    """Become the item's one writer, then decide on what holds now: may ``by`` still edit
    it, and is ``base`` still its current revision?"""
    hold_active(item)
    if not access.may_edit_item(by, item):
        raise Refused(_l("You may read this piece but not change it."), status=403)
    current = item.current
    assert current is not None  # held active
    if base is not None and base != current.number:
        raise EditConflict(current)


def revision(item: Item, number: int) -> Optional[Revision]:
    if not 0 < number < 2**63:  # no such revision, and a database integer cannot hold it
        return None
    return db.session.scalar(
        select(Revision).where(Revision.item_id == item.id, Revision.number == number)
    )


def revision_text(rev: Revision) -> str:
    """Everything a reader sees of a revision, so a diff shows every change."""
    parts = [rev.title, "", rev.body]
    if rev.alt_text:
        parts += ["", rev.alt_text]
    if rev.tags:
        parts += ["", "# " + ", ".join(rev.tags)]
    return "\n".join(parts)


def revisions(item: Item) -> list[Revision]:
    return list(
        db.session.scalars(
            select(Revision).where(Revision.item_id == item.id).order_by(Revision.number.desc())
        )
    )


def _new_revision(
    item: Item,
    draft: Draft,
    by: Account,
    media: Optional[MediaAsset],
    restored_from: Optional[int] = None,
) -> Revision:
    hold_active(item, states=LIVE)  # and so the numbers below are not taken by another edit
    number = (
        db.session.scalar(select(func.max(Revision.number)).where(Revision.item_id == item.id)) or 0
    ) + 1
    shown = text.rendered(draft.body, draft.alt_text)
    rev = Revision(
        item_id=item.id,
        number=number,
        title=draft.title,
        body=draft.body,
        html=shown.html,
        excerpt=shown.excerpt,
        description=shown.description,
        language=draft.language,
        tag_rows=[
            RevisionTag(tag=tag, position=position) for position, tag in enumerate(draft.tags)
        ],
        media=media,
        alt_text=draft.alt_text,
        author_id=by.id,
        note=draft.note,
        restored_from=restored_from,
    )
    db.session.add(rev)
    db.session.flush()
    item.current = rev
    item.updated_at = utcnow()
    search.queue(item)
    db.session.flush()
    return rev


def process_image(data: bytes) -> images.ProcessedImage:
    """Check and re-encode an uploaded artwork (no metadata, derivatives); nothing stored.
    A picture that cannot be kept is `Refused`, saying why, for the image field."""
    processed = _process(data)
    assert processed is not None  # bytes in, a picture out
    return processed


def _process(data) -> Optional[images.ProcessedImage]:
    if data is None or isinstance(data, images.ProcessedImage):
        return data
    try:
        return images.process_upload(data)
    except images.ImageRefused as refused:
        raise Refused(refused.message, field="image") from None


def _store_image(item: Item, processed: Optional[images.ProcessedImage]) -> Optional[MediaAsset]:
    """Store a processed artwork; the files go again if the transaction fails."""
    if processed is None:
        return None
    storage = storage_from_config(current_app.config)
    try:
        stored = store_processed(storage, processed)
    except OSError as error:
        raise _not_stored(error) from None
    keys = [entry["key"] for entry in stored.values()]

    def remove() -> None:
        for key in keys:
            storage.delete(key)

    on_rollback(remove)
    largest = max(stored.values(), key=lambda entry: entry["width"] * entry["height"])
    asset = MediaAsset(
        public_id=public_id(),
        item_id=item.id,
        derivatives=stored,
        width=largest["width"],
        height=largest["height"],
    )
    db.session.add(asset)
    db.session.flush()
    return asset


def _not_stored(error: OSError) -> Refused:
    """The store is full or away: the person is told so, and nothing is saved (a file
    `store_processed` could not take back is removed later by `archive.media.leftovers`)."""
    log.warning("an artwork could not be stored: %s", error)
    if error.errno in NO_ROOM:
        return Refused(
            _l(
                "There is no room to store your picture just now, so nothing was "
                "saved. Please try again later, or tell a facilitator."
            ),
            field="image",
            status=507,
        )
    return Refused(
        _l(
            "Your picture could not be stored just now, so nothing was saved. "
            "Please try again in a little while."
        ),
        field="image",
        status=503,
    )

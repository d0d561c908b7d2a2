"""Withdrawal is erasure: one action, and the item is gone from every surface.

1. One transaction: every revision, tag link, media row, consent and (through
   ``ERASE_HOOKS``) collection entry of the item goes; the item row keeps only its id,
   public id, state and time; a content-free ledger event is appended; purges are queued.
2. After commit the purges run: files and derivatives, index entries, cached packs, the
   SQLite write-ahead log. Unfinished purges are retried (see ``archive.purge``).
"""
from __future__ import annotations

from typing import Callable, Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from archive import background, purge
from archive.db import db, utcnow
from archive.models import Account, Consent, Item, ItemTag, MediaAsset, Revision
from archive.operations import Refused
from archive.operations.consent import code_hash, normalise_code, record

#: called inside the erasure transaction with the item (collections, search register here)
ERASE_HOOKS: list[Callable[[Item], None]] = []
REASONS = ("in-person", "phone-or-message", "in-writing")


def erase(item: Item, actor: Optional[Account], role: str,
          reason: Optional[str] = None) -> None:
    """Erase ``item`` for good. ``role`` says which door: contributor, facilitator, code."""
    hold_active(item)
    if role == "facilitator" and reason not in REASONS:
        raise Refused(_l("Please say how the contributor asked for this."), field="reason")
    keys = _media_keys(item)
    change = {"audience": [item.consent.audience if item.consent else None, None]}
    if reason:
        change["reason"] = reason
    record(item, "withdrawn", change, actor, role)
    for hook in ERASE_HOOKS:
        hook(item)
    _delete_rows(item)
    _keep_only_the_tombstone(item)
    if keys:
        purge.queue("media", keys=keys)
    purge.queue("database")
    db.session.flush()
    background.after_commit(purge.run_pending)


def hold_active(item: Item) -> None:
    """Lock the item's row until this transaction ends, and refuse if it is no longer active.

    On PostgreSQL two requests run side by side: without the lock, an edit saved while an
    erasure commits would insert a revision the erasure never saw, and the text would outlive
    the withdrawal. With it, whichever comes second waits and then sees the other's outcome.
    (SQLite lets one writer at a time and ignores ``FOR UPDATE``.)"""
    state = db.session.scalar(select(Item.state).where(Item.id == item.id).with_for_update())
    if state != "active":
        raise Refused(_l("This piece has already been taken back."), status=410)


def withdraw_with_code(code: str) -> Item:
    """The door for anyone holding a receipt. A wrong code learns nothing about any item."""
    item = item_for_code(code)
    if item is None:
        raise Refused(_l("That code does not match anything we hold. Please check it against "
                         "your receipt and try again."), field="code")
    erase(item, None, "code")
    return item


def item_for_code(code: str) -> Optional[Item]:
    if len(normalise_code(code).replace("-", "")) != 20:
        return None
    consent = db.session.scalar(select(Consent).where(
        Consent.withdrawal_code_hash == code_hash(code)))
    if consent is None or consent.item.state != "active":
        return None
    return consent.item


def _media_keys(item: Item) -> list[str]:
    assets = db.session.scalars(select(MediaAsset).where(MediaAsset.item_id == item.id))
    return [entry["key"] for asset in assets for entry in asset.derivatives.values()]


def _delete_rows(item: Item) -> None:
    item.current_revision_id = None
    db.session.flush()
    for model in (ItemTag, Revision, MediaAsset, Consent):
        db.session.execute(delete(model).where(model.item_id == item.id))
    db.session.expire(item)


def _keep_only_the_tombstone(item: Item) -> None:
    now = utcnow()
    item.state = "withdrawn"
    item.kind = None
    item.circle_id = None
    item.contributor_id = None
    item.withdrawn_at = item.updated_at = item.created_at = now

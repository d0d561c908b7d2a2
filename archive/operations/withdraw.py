"""Withdrawal is erasure: one action, and the item is gone from every surface.

1. One transaction: every revision, tag link, media row, consent and (through
   the ``signals.item_erasing`` receivers) collection entry of the item goes; the item row
   keeps only its id, public id, state and time; a content-free ledger event is appended;
   purges are queued.
2. After commit the purges run: files and derivatives, index entries, cached packs, the
   SQLite write-ahead log. Unfinished purges are retried (see ``archive.purge``).
"""

from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select

from archive import access, background, purge, signals
from archive.db import db, utcnow, write_lock
from archive.models import Account, Consent, Item, MediaAsset, Revision, RevisionTag
from archive.operations import Refused
from archive.operations.consent import code_hash, normalise_code, record

REASONS = ("in-person", "phone-or-message", "in-writing")
#: the states of an item that can still be erased (a proposal waits for its member)
LIVE = ("active", "proposed")


def erase(item: Item, by: Account, reason: Optional[str] = None) -> None:
    """Erase ``item`` for good, as ``by`` asks: its contributor, or a facilitator of its
    circle acting on the contributor's request (``reason`` says how they asked). A piece
    proposed to a member is erased the same way when the member declines it."""
    hold_active(item, states=LIVE)
    role = access.consent_role(by, item)
    if role is None:
        raise Refused(_l("That piece was not found."), status=404)
    if (role == "facilitator" or reason is not None) and reason not in REASONS:
        raise Refused(_l("Please say how the contributor asked for this."), field="reason")
    _erase(item, by, role, reason, "declined" if item.state == "proposed" else "withdrawn")


def replay_erase(item: Item) -> None:
    """A restore from backup replays a withdrawal recorded after the backup was made."""
    hold_active(item, states=LIVE)
    _erase(item, None, "replay", None, "withdrawn")


def _erase(
    item: Item, actor: Optional[Account], role: str, reason: Optional[str], event: str
) -> None:
    keys = _media_keys(item)
    change: dict[str, object] = {
        "audience": [item.consent.audience if item.consent else None, None]
    }
    if reason:
        change["reason"] = reason
    record(item, event, change, actor, role)
    signals.item_erasing.send(item)
    _delete_rows(item)
    _keep_only_the_tombstone(item)
    if keys:
        purge.queue("media", keys=keys)
    purge.queue("database")
    db.session.flush()
    background.after_commit(purge.run_pending)


def hold_active(item: Item, states: tuple[str, ...] = ("active",)) -> None:
    """Make this unit of work the one writer of ``item`` until it ends, refuse if the item
    is no longer in one of ``states``, and read it again as last committed.

    Every write to an item begins here, before it reads anything it decides on, so it is
    ordered with any erasure of the same item: SQLite's ``BEGIN IMMEDIATE`` lets one writer
    at a time (``db.write_lock``), PostgreSQL's row lock makes whichever comes second wait.
    Without it an edit saved while an erasure commits would add a revision the erasure
    never saw, and the text would outlive the withdrawal."""
    write_lock()
    state = db.session.scalar(select(Item.state).where(Item.id == item.id).with_for_update())
    if state == "withdrawn":
        raise Refused(_l("This piece has already been taken back."), status=410)
    if state not in states:
        raise Refused(_l("That piece was not found."), status=404)
    db.session.refresh(item)
    if item.consent is not None:
        db.session.refresh(item.consent)


def withdraw_with_code(code: str) -> Item:
    """The door for anyone holding a receipt. A wrong code learns nothing about any item."""
    item = item_for_code(code)
    if item is None:
        raise Refused(
            _l(
                "That code does not match anything we hold. Please check it against "
                "your receipt and try again."
            ),
            field="code",
        )
    hold_active(item)
    _erase(item, None, "code", None, "withdrawn")
    return item


def item_for_code(code: str) -> Optional[Item]:
    if len(normalise_code(code).replace("-", "")) != 20:
        return None
    consent = db.session.scalar(
        select(Consent).where(Consent.withdrawal_code_hash == code_hash(code))
    )
    if consent is None or consent.item.state != "active":
        return None
    return consent.item


def _media_keys(item: Item) -> list[str]:
    assets = db.session.scalars(select(MediaAsset).where(MediaAsset.item_id == item.id))
    return [entry["key"] for asset in assets for entry in asset.derivatives.values()]


def _delete_rows(item: Item) -> None:
    item.current_revision_id = None
    db.session.flush()
    revisions = select(Revision.id).where(Revision.item_id == item.id)
    db.session.execute(delete(RevisionTag).where(RevisionTag.revision_id.in_(revisions)))
    for model in (Revision, MediaAsset, Consent):
        db.session.execute(delete(model).where(model.item_id == item.id))
    db.session.expire(item)


def _keep_only_the_tombstone(item: Item) -> None:
    now = utcnow()
    item.state = "withdrawn"
    item.kind = None
    item.circle_id = None
    item.contributor_id = None
    item.withdrawn_at = item.updated_at = item.created_at = now

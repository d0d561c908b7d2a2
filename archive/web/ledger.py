"""The consent ledger in words: each entry field by field, in which direction, by whom, in
the reader's language. The ledger itself holds only enumerated values, dates and ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from archive import access
from archive.db import db
from archive.labels import CONTENT_NOTE_CHOICES
from archive.models import Account, ConsentEvent, Item

AUDIENCE = {"private": _l("only them"), "circle": _l("the circle"), "public": _l("everyone")}
ATTRIBUTION = {"name": _l("their name"), "pseudonym": _l("a pseudonym"), "anonymous": _l("no name")}
PERMISSION = {
    "allow_collections": _l("In collections"),
    "allow_embeds": _l("Quoted or shown on other websites"),
    "allow_packs": _l("In offline packs"),
}
REASON = {
    "in-person": _l("asked in person"),
    "phone-or-message": _l("asked by phone or message"),
    "in-writing": _l("asked in writing"),
}
#: how many entries a ledger page shows
LIMIT = 500


@dataclass
class Line:
    """One ledger entry as a person reads it."""

    event: ConsentEvent
    title: Optional[str] = None  # the piece's title, when the reader may see the piece
    url: Optional[str] = None
    changes: list[str] = field(default_factory=list)
    by_someone_else: bool = False


def describe(event: ConsentEvent) -> list[str]:
    """What changed, field by field and in which direction."""
    if event.event in ("granted", "proposed", "withdrawn", "declined"):
        reason = event.change.get("reason")
        return [_("How they asked: %(how)s", how=REASON[reason])] if reason in REASON else []
    lines = []
    for name, values in event.change.items():
        described = _field(name, values)
        if described:
            lines.append(described)
    return lines


def _field(name: str, values) -> Optional[str]:
    if name == "reason":
        return _("How they asked: %(how)s", how=REASON[values]) if values in REASON else None
    if name == "pseudonym":
        return _("The pseudonym was changed")
    if not isinstance(values, list) or len(values) != 2:
        return None
    before, after = values
    if name == "audience" and before in AUDIENCE and after in AUDIENCE:
        return _(
            "Who may see it: %(before)s → %(after)s", before=AUDIENCE[before], after=AUDIENCE[after]
        )
    if name == "attribution" and before in ATTRIBUTION and after in ATTRIBUTION:
        return _(
            "Signed with: %(before)s → %(after)s",
            before=ATTRIBUTION[before],
            after=ATTRIBUTION[after],
        )
    if name in PERMISSION:
        return (
            _("%(what)s: now allowed", what=PERMISSION[name])
            if after
            else _("%(what)s: no longer allowed", what=PERMISSION[name])
        )
    if name == "review_by":
        return _review(before, after)
    if name == "content_notes":
        return _notes(before or [], after or [])
    return None


def _review(before: Optional[str], after: Optional[str]) -> str:
    if after is None:
        return _("Review date removed")
    if before is None:
        return _("Review date set")
    return _("Review date moved earlier") if after < before else _("Review date moved later")


def _notes(before: list[str], after: list[str]) -> str:
    names = dict(CONTENT_NOTE_CHOICES)
    added = [str(names.get(code, code)) for code in after if code not in before]
    removed = [str(names.get(code, code)) for code in before if code not in after]
    parts = []
    if added:
        parts.append(_("Content note added: %(notes)s", notes=", ".join(added)))
    if removed:
        parts.append(_("Content note removed: %(notes)s", notes=", ".join(removed)))
    return "; ".join(parts)


def who(event: ConsentEvent, reader) -> str:
    """Who acted, as the reader may know it: a facilitator by name, the reader as "you"."""
    if event.actor_id is not None and event.actor_id == getattr(reader, "id", None):
        return _("you")
    if event.actor_role == "facilitator":
        actor = db.session.get(Account, event.actor_id) if event.actor_id else None
        return _("%(name)s, a facilitator", name=actor.shown_name) if actor else _("a facilitator")
    return {
        "contributor": _("the contributor"),
        "code": _("someone with the withdrawal code"),
        "replay": _("restored from a backup, then replayed"),
    }.get(event.actor_role, event.actor_role)


def lines(events: list[ConsentEvent], reader, *, own: bool) -> list[Line]:
    """The entries ``reader`` may read, described. ``own``: the reader's own pieces (every
    entry; changes by others marked). Otherwise a circle's ledger: only entries of pieces
    the reader may see now, or that the reader acted on; never the id of a hidden piece."""
    from flask import url_for

    items = _items({event.item_public_id for event in events})
    shown = []
    for event in events:
        item = items.get(event.item_public_id)
        visible = item is not None and (
            access.may_view_item(reader, item) or access.is_proposal_for(reader, item)
        )
        acted = event.actor_id is not None and event.actor_id == getattr(reader, "id", None)
        if not (own or visible or acted):
            continue
        line = Line(
            event=event,
            changes=describe(event),
            by_someone_else=own and not acted and event.actor_role != "contributor",
        )
        if visible and item is not None and item.current is not None:
            line.title = item.current.title
            line.url = url_for("items.show", public_id=item.public_id)
        shown.append(line)
    return shown


def _items(public_ids: set[str]) -> dict[str, Item]:
    if not public_ids:
        return {}
    found = db.session.scalars(select(Item).where(Item.public_id.in_(sorted(public_ids))))
    return {item.public_id: item for item in found}


def own_events(account) -> list[ConsentEvent]:
    from archive.models import Contributor

    mine = select(Contributor.id).where(Contributor.account_id == account.id)
    return list(
        db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.contributor_id.in_(mine))
            .order_by(ConsentEvent.id.desc())
            .limit(LIMIT)
        )
    )


def changes_by_others(account, public_ids) -> dict[str, int]:
    """For each of these pieces of ``account``'s, how many of its ledger entries someone else
    made (those ``lines(..., own=True)`` marks ``by_someone_else``), in one query."""
    from archive.models import Contributor

    if not public_ids:
        return {}
    mine = select(Contributor.id).where(Contributor.account_id == account.id)
    rows = db.session.execute(
        select(ConsentEvent.item_public_id, func.count())
        .where(
            ConsentEvent.contributor_id.in_(mine),
            ConsentEvent.item_public_id.in_(sorted(public_ids)),
            or_(ConsentEvent.actor_id.is_(None), ConsentEvent.actor_id != account.id),
            ConsentEvent.actor_role != "contributor",
        )
        .group_by(ConsentEvent.item_public_id)
    )
    return dict(rows.all())


def circle_events(circle) -> list[ConsentEvent]:
    return list(
        db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.circle_id == circle.id)
            .order_by(ConsentEvent.id.desc())
            .limit(LIMIT)
        )
    )

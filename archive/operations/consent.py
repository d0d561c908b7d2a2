"""Consent: granting it with an item, and the receipt with its withdrawal code.

The ledger (``ConsentEvent``) only ever receives enumerated consent values, ids and times:
never a title, body, tag, pseudonym or any free text.
"""
from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from flask_babel import lazy_gettext as _l

from archive import passwords
from archive.access import today
from archive.db import after_commit, db, utcnow
from archive.models import (ATTRIBUTIONS, AUDIENCES, CONTENT_NOTES, METHODS, Account, Consent,
                            ConsentEvent, Item)
from archive.operations import Refused
from archive.text import one_line

#: Crockford's base32: no I, L, O or U, so a code read aloud is not misheard
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS, CODE_GROUP = 5, 4          # 20 symbols: 100 random bits
LEDGER_FIELDS = ("audience", "attribution", "allow_collections", "allow_embeds",
                 "allow_packs", "method", "review_by", "content_notes")


@dataclass
class ConsentChoice:
    audience: str = "private"
    attribution: str = "anonymous"
    pseudonym: str = ""
    collections: bool = False
    embeds: bool = False
    packs: bool = False
    content_notes: list[str] = field(default_factory=list)
    review_by: Optional[date] = None
    method: str = "self"


@dataclass
class Receipt:
    receipt_id: str
    withdrawal_code: str


def new_withdrawal_code() -> str:
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP))
    return "-".join(symbols[i:i + CODE_GROUP] for i in range(0, len(symbols), CODE_GROUP))


def normalise_code(code: str) -> str:
    """What someone typed or read aloud, in canonical form (case, spaces, O/0, I/L/1)."""
    cleaned = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    return "-".join(cleaned[i:i + CODE_GROUP] for i in range(0, len(cleaned), CODE_GROUP))


def code_hash(code: str) -> str:
    return passwords.digest(normalise_code(code))


def check_choice(choice: ConsentChoice, *, for_self: bool,
                 allow_past_review: bool = False) -> ConsentChoice:
    if choice.audience not in AUDIENCES:
        raise Refused(_l("Please choose who may see it."), field="audience")
    if choice.attribution not in ATTRIBUTIONS:
        raise Refused(_l("Please choose how you are named."), field="attribution")
    pseudonym = one_line(choice.pseudonym)
    if choice.attribution == "pseudonym" and not pseudonym:
        raise Refused(_l("Please write the pseudonym to show."), field="pseudonym")
    if len(pseudonym) > 80:
        raise Refused(_l("Please keep the pseudonym under 80 characters."), field="pseudonym")
    if choice.method not in METHODS or (for_self and choice.method != "self") or \
            (not for_self and choice.method == "self"):
        raise Refused(_l("Please say how the person gave their consent."), field="method")
    unknown = set(choice.content_notes) - set(CONTENT_NOTES)
    if unknown:
        raise Refused(_l("Please choose content notes from the list."), field="content_notes")
    if choice.review_by is not None and choice.review_by <= today() and not allow_past_review:
        raise Refused(_l("A review date needs to be in the future."), field="review_by")
    return ConsentChoice(audience=choice.audience, attribution=choice.attribution,
                         pseudonym=pseudonym if choice.attribution == "pseudonym" else "",
                         collections=bool(choice.collections), embeds=bool(choice.embeds),
                         packs=bool(choice.packs),
                         content_notes=[n for n in CONTENT_NOTES if n in choice.content_notes],
                         review_by=choice.review_by, method=choice.method)


def grant(item: Item, choice: ConsentChoice, by: Account, language: str) -> Receipt:
    """Record the consent an item is contributed with; the code is returned only here."""
    for_self = item.contributor.account_id == by.id
    choice = check_choice(choice, for_self=for_self)
    code = new_withdrawal_code()
    consent = Consent(item=item, audience=choice.audience, attribution=choice.attribution,
                      pseudonym=choice.pseudonym or None,
                      allow_collections=choice.collections, allow_embeds=choice.embeds,
                      allow_packs=choice.packs,
                      content_notes_json=json.dumps(choice.content_notes),
                      review_by=choice.review_by, method=choice.method, recorded_by_id=by.id,
                      receipt_id=str(uuid.uuid4()), withdrawal_code_hash=code_hash(code),
                      language=language)
    db.session.add(consent)
    db.session.flush()
    record(item, "granted", {name: [None, _ledger_value(consent, name)]
                             for name in LEDGER_FIELDS}, by,
           "contributor" if for_self else "facilitator")
    return Receipt(receipt_id=consent.receipt_id, withdrawal_code=code)


def record(item: Item, event: str, change: dict, actor: Optional[Account], role: str) -> None:
    """Append to the content-free ledger (and, once committed, to its copy on disk)."""
    from archive import ledger_file
    entry = ConsentEvent(item_public_id=item.public_id, circle_id=item.circle_id,
                         contributor_id=item.contributor_id, event=event,
                         change_json=json.dumps(change), actor_id=actor.id if actor else None,
                         actor_role=role, created_at=utcnow())
    db.session.add(entry)
    line = ledger_file.as_line(entry)
    after_commit(lambda: ledger_file.append([line]))


def _ledger_value(consent: Consent, name: str):
    value = consent.content_notes if name == "content_notes" else getattr(consent, name)
    return value.isoformat() if isinstance(value, date) else value


# --- changing consent ----------------------------------------------------------------------

#: how far each audience reaches; a smaller number is narrower
REACH = {"private": 0, "circle": 1, "public": 2}
#: how much of a person each attribution shows
EXPOSURE = {"anonymous": 0, "pseudonym": 1, "name": 2}
#: called inside the transaction after a consent change (collections, search, packs)
CHANGE_HOOKS: list = []


def hold(item: Item) -> Optional[Consent]:
    """Lock the item's row until this transaction ends (refused with 410 once it has been
    taken back, see ``withdraw.hold_active``) and read its consent as last committed.

    On PostgreSQL a change saved while an erasure commits would otherwise write a ledger
    row and a consent the erasure never saw; and one saved while another change commits
    would decide on, and record as "before", values that no longer hold."""
    from archive.operations.withdraw import hold_active  # withdraw builds on this module
    hold_active(item)
    if item.consent is not None:
        db.session.refresh(item.consent)
    return item.consent


def widens(before: Consent, after: ConsentChoice) -> bool:
    """Would this change let more people see the item, or see more of its author?"""
    return (REACH[after.audience] > REACH[before.audience]
            or EXPOSURE[after.attribution] > EXPOSURE[before.attribution]
            or (after.collections and not before.allow_collections)
            or (after.embeds and not before.allow_embeds)
            or (after.packs and not before.allow_packs))


def current_choice(consent: Consent) -> ConsentChoice:
    return ConsentChoice(audience=consent.audience, attribution=consent.attribution,
                         pseudonym=consent.pseudonym or "",
                         collections=consent.allow_collections,
                         embeds=consent.allow_embeds, packs=consent.allow_packs,
                         content_notes=consent.content_notes, review_by=consent.review_by,
                         method=consent.method)


def change(item: Item, choice: ConsentChoice, by: Account, role: str,
           may_widen: bool, reason: Optional[str] = None,
           allow_past_review: bool = False) -> dict:
    """Change an item's consent; takes effect on every surface at once. Returns the
    ledger's record of what changed ({} when nothing did). ``allow_past_review``: a replay
    of a change whose review date has passed since it was made."""
    from archive.operations.withdraw import REASONS
    consent = hold(item)
    choice.method = consent.method
    choice = check_choice(choice, for_self=consent.method == "self",
                          allow_past_review=allow_past_review
                          or consent.review_by == choice.review_by)
    if widens(consent, choice) and not may_widen:
        raise Refused(_l("Only the person who shared it can open it up further. You can "
                         "narrow it on their request."), field="audience")
    if role == "facilitator" and reason not in REASONS:
        raise Refused(_l("Please say how the contributor asked for this."), field="reason")
    changed = _apply(consent, choice)
    if not changed:
        raise Refused(_l("Nothing has changed yet. Choose something different, then save."))
    if reason:
        changed["reason"] = reason
    record(item, "changed", changed, by, role)
    for hook in CHANGE_HOOKS:
        hook(item)
    db.session.flush()
    return changed


def confirm(item: Item, by: Account, role: str, review_by: Optional[date]) -> None:
    """After a review date: the contributor (or steward) says the consent still holds."""
    consent = hold(item)
    if review_by is not None and review_by <= today():
        raise Refused(_l("A review date needs to be in the future."), field="review_by")
    before = consent.review_by
    consent.review_by = review_by
    consent.updated_at = utcnow()
    record(item, "confirmed", {"review_by": [_iso(before), _iso(review_by)]}, by, role)
    for hook in CHANGE_HOOKS:
        hook(item)
    db.session.flush()


def _apply(consent: Consent, choice: ConsentChoice) -> dict:
    wanted = {"audience": choice.audience, "attribution": choice.attribution,
              "allow_collections": choice.collections, "allow_embeds": choice.embeds,
              "allow_packs": choice.packs, "review_by": choice.review_by,
              "content_notes_json": json.dumps(choice.content_notes),
              "pseudonym": choice.pseudonym or None}
    changed: dict = {}
    for name, value in wanted.items():
        if getattr(consent, name) == value:
            continue
        before = getattr(consent, name)
        setattr(consent, name, value)
        if name == "pseudonym":
            changed["pseudonym"] = "changed"          # the ledger never holds free text
        elif name == "content_notes_json":
            changed["content_notes"] = [json.loads(before or "[]"), choice.content_notes]
        else:
            changed[name] = [_iso(before), _iso(value)]
    if changed:
        consent.updated_at = utcnow()
    return changed


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value

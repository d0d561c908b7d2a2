"""Consent: granting it with an item, and the receipt with its withdrawal code.

The ledger (``ConsentEvent``) only ever receives enumerated consent values, ids and times:
never a title, body, tag, pseudonym or any free text.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from flask_babel import lazy_gettext as _l

from archive import access, passwords, signals
from archive.access import today
from archive.db import db, utcnow
from archive.models import (
    ATTRIBUTIONS,
    AUDIENCES,
    CONTENT_NOTES,
    METHODS,
    Account,
    Consent,
    ConsentEvent,
    Item,
)
from archive.operations import Problems, Refused
from archive.text import one_line

#: Crockford's base32: no I, L, O or U, so a code read aloud is not misheard
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS, CODE_GROUP = 5, 4  # 20 symbols: 100 random bits
LEDGER_FIELDS = (
    "audience",
    "attribution",
    "allow_collections",
    "allow_embeds",
    "allow_packs",
    "method",
    "review_by",
    "content_notes",
)


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
    return "-".join(symbols[i : i + CODE_GROUP] for i in range(0, len(symbols), CODE_GROUP))


def normalise_code(code: str) -> str:
    """What someone typed or read aloud, in canonical form (case, spaces, O/0, I/L/1)."""
    cleaned = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    return "-".join(cleaned[i : i + CODE_GROUP] for i in range(0, len(cleaned), CODE_GROUP))


def code_hash(code: str) -> str:
    return passwords.digest(normalise_code(code))


def check_choice(
    choice: ConsentChoice, *, for_self: bool, allow_past_review: bool = False
) -> ConsentChoice:
    """The choice as it is kept, or `Refused` naming every problem in it at once."""
    problems = Problems()
    if choice.audience not in AUDIENCES:
        problems.add(_l("Please choose who may see it."), "audience")
    if choice.attribution not in ATTRIBUTIONS:
        problems.add(_l("Please choose how you are named."), "attribution")
    pseudonym = one_line(choice.pseudonym)
    if choice.attribution == "pseudonym" and not pseudonym:
        problems.add(_l("Please write the pseudonym to show."), "pseudonym")
    elif len(pseudonym) > 80:
        problems.add(_l("Please keep the pseudonym under 80 characters."), "pseudonym")
    if (
        choice.method not in METHODS
        or (for_self and choice.method != "self")
        or (not for_self and choice.method == "self")
    ):
        problems.add(_l("Please say how the person gave their consent."), "method")
    if set(choice.content_notes) - set(CONTENT_NOTES):
        problems.add(_l("Please choose content notes from the list."), "content_notes")
    if choice.review_by is not None and choice.review_by <= today() and not allow_past_review:
        problems.add(_l("A review date needs to be in the future."), "review_by")
    problems.raise_any()
    return ConsentChoice(
        audience=choice.audience,
        attribution=choice.attribution,
        pseudonym=pseudonym if choice.attribution == "pseudonym" else "",
        collections=bool(choice.collections),
        embeds=bool(choice.embeds),
        packs=bool(choice.packs),
        content_notes=[n for n in CONTENT_NOTES if n in choice.content_notes],
        review_by=choice.review_by,
        method=choice.method,
    )


def check_grant(choice: ConsentChoice, *, for_self: bool, proposal: bool) -> ConsentChoice:
    """The consent a new piece is shared with, checked: given by its author themselves (their
    own piece, or a proposal they will agree to) or recorded for someone without an account,
    saying how they gave it."""
    if for_self or proposal:
        choice.method = "self"
    return check_choice(choice, for_self=for_self or proposal)


def grant(item: Item, choice: ConsentChoice, by: Account, language: str) -> Optional[Receipt]:
    """Record the consent an item is contributed with; the code is returned only here.

    Recorded by someone else for a member who has an account, the piece is a proposal: it
    waits, seen by that member alone, until they agree (``agree``), and only they receive
    its receipt. No code is made for the one who proposed it."""
    contributor = item.contributor
    assert contributor is not None  # set when the item is made
    for_self = contributor.account_id == by.id
    proposal = not for_self and contributor.has_account
    choice = check_grant(choice, for_self=for_self, proposal=proposal)
    code = new_withdrawal_code()
    consent = Consent(
        item=item,
        audience=choice.audience,
        attribution=choice.attribution,
        pseudonym=choice.pseudonym or None,
        allow_collections=choice.collections,
        allow_embeds=choice.embeds,
        allow_packs=choice.packs,
        content_notes=list(choice.content_notes),
        review_by=choice.review_by,
        method=choice.method,
        recorded_by_id=by.id,
        receipt_id=str(uuid.uuid4()),
        withdrawal_code_hash=code_hash(code),
        language=language,
    )
    db.session.add(consent)
    if proposal:
        item.state = "proposed"
    db.session.flush()
    record(
        item,
        "proposed" if proposal else "granted",
        {name: [None, _ledger_value(consent, name)] for name in LEDGER_FIELDS},
        by,
        "contributor" if for_self else "facilitator",
    )
    if proposal:
        return None
    return Receipt(receipt_id=consent.receipt_id, withdrawal_code=code)


def agree(item: Item, by: Account, choice: Optional[ConsentChoice] = None) -> Receipt:
    """The member agrees to a piece proposed for them, as it was proposed or with the
    consent they chose instead; only now is it shared, and the receipt is theirs."""
    consent = hold(item, states=("proposed",))
    if not access.is_proposal_for(by, item):
        raise Refused(_l("That piece was not found."), status=404)
    changed = {}
    if choice is not None:
        choice.method = "self"
        changed = _apply(
            consent,
            check_choice(
                choice, for_self=True, allow_past_review=consent.review_by == choice.review_by
            ),
        )
    code = new_withdrawal_code()
    consent.method = "self"
    consent.withdrawal_code_hash = code_hash(code)
    consent.receipt_id = str(uuid.uuid4())
    consent.updated_at = item.updated_at = utcnow()
    item.state = "active"
    record(item, "agreed", changed, by, "contributor")
    _changed(item)
    db.session.flush()
    return Receipt(receipt_id=consent.receipt_id, withdrawal_code=code)


def record(item: Item, event: str, change: dict, actor: Optional[Account], role: str) -> None:
    """Append to the content-free ledger (and, once committed, to its copy on disk)."""
    from archive import ledger_file

    entry = ConsentEvent(
        item_public_id=item.public_id,
        circle_id=item.circle_id,
        contributor_id=item.contributor_id,
        event=event,
        change=change,
        actor_id=actor.id if actor else None,
        actor_role=role,
        created_at=utcnow(),
    )
    db.session.add(entry)
    line = ledger_file.as_line(entry)
    ledger_file.queue(line)


def _ledger_value(consent: Consent, name: str):
    value = consent.content_notes if name == "content_notes" else getattr(consent, name)
    return value.isoformat() if isinstance(value, date) else value


# --- changing consent ----------------------------------------------------------------------

#: how far each audience reaches; a smaller number is narrower
REACH = {"private": 0, "circle": 1, "public": 2}
#: how much of a person each attribution shows
EXPOSURE = {"anonymous": 0, "pseudonym": 1, "name": 2}


def hold(item: Item, states: tuple[str, ...] = ("active",)) -> Consent:
    """Make this unit of work the one writer of the item (refused with 410 once it has been
    taken back, see ``withdraw.hold_active``) and read it and its consent as last committed,
    so a change decides on, and records as "before", the values that hold now."""
    from archive.operations.withdraw import hold_active  # withdraw builds on this module

    hold_active(item, states=states)
    assert item.consent is not None  # every piece not taken back has one
    return item.consent


#: what anyone but the contributor is told when a change would give more than they chose
WIDER = {
    "audience": _l(
        "Only the person who shared it can let more people see it. You can "
        "narrow it on their request."
    ),
    "attribution": _l("Only the person who shared it can show more of who they are."),
    "pseudonym": _l("Only the person who shared it can change the name it is signed with."),
    "collections": _l("Only the person who shared it can allow it in collections."),
    "embeds": _l("Only the person who shared it can allow it on other websites."),
    "packs": _l("Only the person who shared it can allow it in offline packs."),
    "review_by": _l(
        "Only the person who shared it can move its review date later or "
        "remove it. You can choose an earlier date."
    ),
    "content_notes": _l(
        "Only the person who shared it can remove a content note. You can add one."
    ),
}


def widenings(
    before: Consent, after: ConsentChoice, own_pseudonym: Optional[str] = None
) -> list[str]:
    """The fields on which ``after`` gives more than ``before``, in the consent's order:
    audience private < circle < public; attribution anonymous < pseudonym < name, and a
    pseudonym's text is never replaced by other text (from a name, only the contributor's
    own pseudonym, ``own_pseudonym``, is fewer words of them); collections, embeds, packs
    off < on; a review date later, or none, is more than an earlier one; fewer content
    notes are more than more."""
    wider = []
    if REACH[after.audience] > REACH[before.audience]:
        wider.append("audience")
    if EXPOSURE[after.attribution] > EXPOSURE[before.attribution]:
        wider.append("attribution")
    elif after.attribution == "pseudonym":
        kept = (before.pseudonym or "") if before.attribution == "pseudonym" else own_pseudonym
        if after.pseudonym != kept:
            wider.append("pseudonym")
    for name, allowed in (
        ("collections", before.allow_collections),
        ("embeds", before.allow_embeds),
        ("packs", before.allow_packs),
    ):
        if getattr(after, name) and not allowed:
            wider.append(name)
    if before.review_by is not None and (
        after.review_by is None or after.review_by > before.review_by
    ):
        wider.append("review_by")
    if set(before.content_notes) - set(after.content_notes):
        wider.append("content_notes")
    return wider


def widens(before: Consent, after: ConsentChoice) -> bool:
    """Would this change let more people see the item, or see more of its author?"""
    return bool(widenings(before, after))


def current_choice(consent: Consent) -> ConsentChoice:
    return ConsentChoice(
        audience=consent.audience,
        attribution=consent.attribution,
        pseudonym=consent.pseudonym or "",
        collections=consent.allow_collections,
        embeds=consent.allow_embeds,
        packs=consent.allow_packs,
        content_notes=consent.content_notes,
        review_by=consent.review_by,
        method=consent.method,
    )


def change(item: Item, choice: ConsentChoice, by: Account, reason: Optional[str] = None) -> dict:
    """Change an item's consent as ``by`` asks; takes effect on every surface at once.

    The operation decides who may do what: the contributor moves it any way; a facilitator
    of its circle, on the contributor's request (``reason``), only towards less
    (``widenings``); nobody else at all. Returns the ledger's record of what changed."""
    from archive.operations.withdraw import REASONS

    consent = hold(item)
    role = access.consent_role(by, item)
    if role is None:
        raise Refused(_l("That piece was not found."), status=404)
    choice = _checked(consent, choice)
    if not access.may_widen_consent(by, item):
        wider = widenings(consent, choice, _own_pseudonym(item))
        if wider:
            raise Refused(WIDER[wider[0]], field=wider[0])
    if (role == "facilitator" or reason is not None) and reason not in REASONS:
        raise Refused(_l("Please say how the contributor asked for this."), field="reason")
    return _record_change(item, consent, choice, by, role, reason)


def replay_change(item: Item, choice: ConsentChoice) -> dict:
    """A restore from backup replays a consent change recorded after the backup was made
    (the contributor's own, or an allowed narrowing: it was decided when it was made)."""
    consent = hold(item)
    choice = _checked(consent, choice, allow_past_review=True)
    return _record_change(item, consent, choice, None, "replay", None)


def _checked(
    consent: Consent, choice: ConsentChoice, allow_past_review: bool = False
) -> ConsentChoice:
    choice.method = consent.method
    return check_choice(
        choice,
        for_self=consent.method == "self",
        allow_past_review=allow_past_review or consent.review_by == choice.review_by,
    )


def _record_change(
    item: Item,
    consent: Consent,
    choice: ConsentChoice,
    by: Optional[Account],
    role: str,
    reason: Optional[str],
) -> dict:
    changed = _apply(consent, choice)
    if not changed:
        raise Refused(_l("Nothing has changed yet. Choose something different, then save."))
    if reason:
        changed["reason"] = reason
    record(item, "changed", changed, by, role)
    _changed(item)
    db.session.flush()
    return changed


def _own_pseudonym(item: Item) -> Optional[str]:
    """The pseudonym the contributor keeps for themselves, if any (a profile's)."""
    return item.contributor.pseudonym if item.contributor is not None else None


def _changed(item: Item) -> None:
    """Inside the transaction: collections, packs and the search index follow the change
    (their receivers are connected in ``create_app``)."""
    signals.consent_changed.send(item)


def confirm(item: Item, by: Account, review_by: Optional[date]) -> None:
    """After a review date: the contributor says the consent still holds (which shares the
    piece again, so it is theirs alone to say)."""
    consent = hold(item)
    if not access.may_widen_consent(by, item):
        raise Refused(_l("Only the person who shared it can share it again."), status=403)
    if review_by is not None and review_by <= today():
        raise Refused(_l("A review date needs to be in the future."), field="review_by")
    before = consent.review_by
    consent.review_by = review_by
    consent.updated_at = utcnow()
    record(item, "confirmed", {"review_by": [_iso(before), _iso(review_by)]}, by, "contributor")
    _changed(item)
    db.session.flush()


def _apply(consent: Consent, choice: ConsentChoice) -> dict:
    wanted = {
        "audience": choice.audience,
        "attribution": choice.attribution,
        "allow_collections": choice.collections,
        "allow_embeds": choice.embeds,
        "allow_packs": choice.packs,
        "review_by": choice.review_by,
        "content_notes": list(choice.content_notes),
        "pseudonym": choice.pseudonym or None,
    }
    changed: dict = {}
    for name, value in wanted.items():
        if getattr(consent, name) == value:
            continue
        before = getattr(consent, name)
        setattr(consent, name, value)
        if name == "pseudonym":
            changed["pseudonym"] = "changed"  # the ledger never holds free text
        elif name == "content_notes":
            changed["content_notes"] = [before, list(choice.content_notes)]
        else:
            changed[name] = [_iso(before), _iso(value)]
    if changed:
        consent.updated_at = utcnow()
    return changed


def _iso(value):
    return value.isoformat() if isinstance(value, date) else value

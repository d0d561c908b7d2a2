"""THE access rule: the only place that decides who may see or manage what.

Views, templates, the API and the CLI ask here; none of them decides on its own.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Optional

from sqlalchemy import and_, bindparam, false, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from archive.db import ROLES_KEY, db, utcnow
from archive.models import (
    TAG_EVENTS,
    Account,
    Circle,
    Consent,
    Contributor,
    Item,
    Membership,
    Revision,
)


def _signed_in(viewer) -> Optional[Account]:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    return viewer


def roles(viewer) -> dict[int, str]:
    """The circles a signed-in viewer belongs to, with their role in each. Read once per
    database session and forgotten at its next write (`archive.db`): a page asking about
    ten items of a circle asks the database once."""
    account = _signed_in(viewer)
    if account is None:
        return {}
    known = db.session.info.setdefault(ROLES_KEY, {})
    found = known.get(account.id)
    if found is None:
        found = known[account.id] = dict(
            db.session.execute(_roles_query(), {"account": account.id}).all()
        )
    return found


@cache
def _roles_query():
    """Built once: asked on nearly every page a signed-in person opens."""
    return select(Membership.circle_id, Membership.role).where(
        Membership.account_id == bindparam("account")
    )


def is_member(viewer, circle: Circle) -> bool:
    return circle.id in roles(viewer)


def is_facilitator(viewer, circle: Circle) -> bool:
    return _facilitator_of(viewer, circle.id)


def _facilitator_of(viewer, circle_id: Optional[int]) -> bool:
    return circle_id is not None and roles(viewer).get(circle_id) == "facilitator"


def may_view_circle(viewer, circle: Circle) -> bool:
    """Members see their circle's page; admins see every circle's page (not its private items)."""
    account = _signed_in(viewer)
    return account is not None and (account.is_admin or is_member(account, circle))


def may_manage_circle(viewer, circle: Circle) -> bool:
    """Invite people, see the member list: the circle's facilitators, and admins."""
    account = _signed_in(viewer)
    return account is not None and (account.is_admin or is_facilitator(account, circle))


def may_administer(viewer) -> bool:
    account = _signed_in(viewer)
    return account is not None and account.is_admin


def circles_of(viewer) -> list[Circle]:
    """The circles a viewer belongs to (all circles for an admin), by name."""
    account = _signed_in(viewer)
    if account is None:
        return []
    query = select(Circle).order_by(Circle.name)
    if not account.is_admin:
        query = query.join(Membership).where(Membership.account_id == account.id)
    return list(db.session.scalars(query))


# --- items ----------------------------------------------------------------------------------
# Who sees an active item (design.md):
#   audience  | contributor | circle facilitators              | other members | anyone else
#   private   | yes         | only if the contributor has no account | no      | no
#   circle    | yes         | yes                              | yes           | no
#   public    | yes         | yes                              | yes           | yes
# A review date that has passed counts as private. A withdrawn item shows nothing to anyone.
# Admins get no extra view of content.

SURFACES = (
    "item page",
    "history page",
    "diff page",
    "revision page",
    "media (every derivative)",
    "tag pages",
    "circle tags page",
    "circle pages",
    "home page",
    "search results",
    "JSON API item",
    "JSON API revisions",
    "JSON API diff",
    "receipt page",
    "receipt JSON",
    "receipt text file",
    "waiting page",
    "participant export",
    "collection pages",
    "collective-document view",
    "share links",
    "Atom feeds",
    "sitemap",
    "embeds and oEmbed",
    "Open Graph tags",
    "offline packs",
    "my pieces page",
)


def today() -> date:
    return utcnow().date()


def effective_audience(consent: Optional[Consent], on: Optional[date] = None) -> str:
    """The audience in force now: a passed review date makes an item private."""
    if consent is None:
        return "private"
    if consent.review_passed(on or today()):
        return "private"
    return consent.audience


def is_contributor(viewer, item: Item) -> bool:
    account = _signed_in(viewer)
    return (
        account is not None
        and item.contributor is not None
        and item.contributor.account_id == account.id
    )


def _circle_id(item: Item) -> Optional[int]:
    """The item's circle by its number: its circle need not be loaded to be checked (an
    item not yet saved has only the circle itself)."""
    if item.circle_id is not None:
        return item.circle_id
    return item.circle.id if item.circle is not None else None


def _facilitates(viewer, item: Item) -> bool:
    return _facilitator_of(viewer, _circle_id(item))


def may_view_item(viewer, item: Optional[Item]) -> bool:
    if item is None or not item.active:
        return False
    if is_contributor(viewer, item):
        return True
    audience = effective_audience(item.consent)
    if audience == "public":
        return True
    if audience == "circle":
        circle_id = _circle_id(item)
        return circle_id is not None and circle_id in roles(viewer)
    return (
        _facilitates(viewer, item)
        and item.contributor is not None
        and not item.contributor.has_account
    )


def may_edit_item(viewer, item: Item) -> bool:
    """The contributor; and circle facilitators for someone without an account (they steward
    that person's items and act on their word)."""
    if not item.active:
        return False
    if is_contributor(viewer, item):
        return True
    return (
        _facilitates(viewer, item)
        and item.contributor is not None
        and not item.contributor.has_account
    )


def may_contribute_for(viewer, contributor: Contributor, circle: Circle) -> bool:
    """Someone records for themselves; a facilitator also for members of their circle and
    for profiles their circle keeps."""
    account = _signed_in(viewer)
    if account is None or not is_member(account, circle):
        return False
    if contributor.account_id == account.id:
        return True
    if not is_facilitator(account, circle):
        return False
    if contributor.account is not None:
        return is_member(contributor.account, circle)
    return contributor.circle_id == circle.id


def visible_items(viewer, on: Optional[date] = None):
    """The same rule as ``may_view_item``, as a filter for ``select(Item)`` queries (joins
    Consent and Contributor)."""
    on = on or today()
    live = or_(Consent.review_by.is_(None), Consent.review_by >= on)
    allowed = [and_(Consent.audience == "public", live)]
    account = _signed_in(viewer)
    if account is not None:
        member_of = select(Membership.circle_id).where(Membership.account_id == account.id)
        facilitates = member_of.where(Membership.role == "facilitator")
        allowed += [
            Contributor.account_id == account.id,
            and_(Item.circle_id.in_(member_of), Consent.audience.in_(("circle", "public")), live),
            and_(Item.circle_id.in_(facilitates), Contributor.account_id.is_(None)),
        ]
    return and_(Item.state == "active", or_(*allowed))


def select_visible(viewer, on: Optional[date] = None, listed: bool = False):
    """``select(Item)`` limited to what ``viewer`` may see. ``listed``: for a list of
    items, loading with them what each shows (current version and its image, consent,
    contributor and their account) in a few queries, not a few per item. The item, its
    consent and its current version come in one statement: an erasure committed between
    two statements cannot leave a listed item without its text."""
    query = (
        select(Item)
        .join(Consent, Consent.item_id == Item.id)
        .join(Contributor, Contributor.id == Item.contributor_id)
        .where(visible_items(viewer, on))
    )
    if listed:
        query = query.join(Revision, Revision.id == Item.current_revision_id).options(
            contains_eager(Item.consent),
            contains_eager(Item.contributor).selectinload(Contributor.account),
            contains_eager(Item.current).selectinload(Revision.media),
        )
    return query


def index_filter(viewer):
    """The same rule again, as a search index filter (``archive.search.schema`` fields), so
    counts come from the permitted set; every hit shown is re-checked with
    ``may_view_item``."""
    from whoosh.query import And, NumericRange, Or, Term

    from archive.search.schema import day_number

    live = NumericRange("review", day_number(today()), None)
    allowed = [And([Term("audience", "public"), live])]
    account = _signed_in(viewer)
    if account is not None:
        memberships = sorted(roles(account).items())
        circles = [Term("circle", str(c)) for c, _role in memberships]
        stewarded = [Term("circle", str(c)) for c, role in memberships if role == "facilitator"]
        own = db.session.scalar(_own_profile_query(), {"account": account.id})
        if own is not None:
            allowed.append(Term("contributor", str(own)))
        if circles:
            allowed.append(
                And(
                    [
                        Or(circles),
                        Or([Term("audience", "circle"), Term("audience", "public")]),
                        live,
                    ]
                )
            )
        if stewarded:
            allowed.append(And([Or(stewarded), Term("steward", "1")]))
    return Or(allowed)


@cache
def _own_profile_query():
    return select(Contributor.id).where(Contributor.account_id == bindparam("account"))


def byline(item: Item) -> Optional[str]:
    """How the contributor is named, exactly as they consented; None means anonymous."""
    consent = item.consent
    if consent is None:
        return None
    contributor = item.contributor
    named = consent.attribution == "name" and contributor is not None
    return shown_as(
        consent.attribution,
        consent.pseudonym,
        contributor.name if named and contributor is not None else None,
    )


def shown_as(
    attribution: str, pseudonym: Optional[str], contributor_name: Optional[str]
) -> Optional[str]:
    """The byline for a consent's attribution: the consented pseudonym, the contributor's
    name, or None (anonymous)."""
    if attribution == "anonymous":
        return None
    if attribution == "pseudonym":
        return pseudonym or None
    return contributor_name or None


def consent_role(viewer, item: Optional[Item]) -> Optional[str]:
    """Who ``viewer`` is to this item's consent: "contributor" (may move it any way),
    "facilitator" (of its circle, for an item they may see, acting on the contributor's
    request: may only narrow it or take it back), or None (may not touch it). A piece
    proposed to a member is theirs alone to agree to or decline."""
    if item is None or item.state not in ("active", "proposed"):
        return None
    if is_contributor(viewer, item):
        return "contributor"
    if item.active and _facilitates(viewer, item) and may_view_item(viewer, item):
        return "facilitator"
    return None


def may_change_consent(viewer, item: Optional[Item]) -> bool:
    return consent_role(viewer, item) is not None


def may_widen_consent(viewer, item: Item) -> bool:
    """Only the contributor opens a piece up further (design.md: anyone else, a facilitator,
    an admin or the command line, may only move its consent towards less)."""
    return item.active and is_contributor(viewer, item)


def review_waiting(viewer, item: Item) -> bool:
    """A passed review date: its contributor is asked to confirm (which shares it again)."""
    return (
        item.consent is not None
        and item.consent.review_passed(today())
        and may_widen_consent(viewer, item)
    )


def is_proposal_for(viewer, item: Optional[Item]) -> bool:
    """A piece a facilitator recorded for this member, waiting for them to agree."""
    return item is not None and item.state == "proposed" and is_contributor(viewer, item)


def is_proposed_by(viewer, item: Optional[Item]) -> bool:
    """A piece this viewer recorded for a member, still waiting for them: the one who
    recorded it is told it waits (its title, the member's name), never its receipt."""
    account = _signed_in(viewer)
    return (
        account is not None
        and item is not None
        and item.state == "proposed"
        and item.consent is not None
        and item.consent.recorded_by_id == account.id
    )


def proposals_for(viewer) -> list[Item]:
    """The pieces waiting for this member to agree to them, newest first."""
    account = _signed_in(viewer)
    if account is None:
        return []
    return list(
        db.session.scalars(
            select(Item)
            .join(Contributor, Contributor.id == Item.contributor_id)
            .where(Item.state == "proposed", Contributor.account_id == account.id)
            .order_by(Item.created_at.desc())
        )
    )


def select_own(viewer):
    """``select(Item)``: the viewer's own pieces — active ones, and proposals waiting for
    them (never one taken back) — newest first, each with its circle, consent, contributor
    and current version loaded in the same statement."""
    account = _signed_in(viewer)
    mine = Contributor.account_id == account.id if account is not None else false()
    return (
        select(Item)
        .join(Contributor, Contributor.id == Item.contributor_id)
        .join(Consent, Consent.item_id == Item.id)
        .join(Revision, Revision.id == Item.current_revision_id)
        .join(Circle, Circle.id == Item.circle_id)
        .where(mine, Item.state.in_(("active", "proposed")))
        .options(
            contains_eager(Item.consent),
            contains_eager(Item.contributor),
            contains_eager(Item.current),
            contains_eager(Item.circle),
        )
        .order_by(Item.created_at.desc(), Item.id.desc())
    )


@cache
def _item_page_parts() -> tuple:
    """What deciding on an item and showing it read, loaded with it in one statement."""
    return (
        joinedload(Item.consent),
        joinedload(Item.circle),
        joinedload(Item.contributor).joinedload(Contributor.account),
        joinedload(Item.current).joinedload(Revision.media),
    )


class Unavailable(Exception):
    """An item this viewer cannot have: ``status`` 404 (unknown, or hidden from them: the
    two answer alike) or 410 (taken back)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def item_for(viewer, public_id: str, *, proposals: bool = False, proposed_by: bool = False) -> Item:
    """The one lookup of an item by its public id, for the web, the API and the command
    line: the item if ``viewer`` may see it (or, with ``proposals``, a proposal waiting for
    them; with ``proposed_by``, only a proposal they recorded, still waiting), else
    :class:`Unavailable`."""
    item = db.session.scalar(
        select(Item).where(Item.public_id == public_id[:64]).options(*_item_page_parts())
    )
    if item is None:
        raise Unavailable(404)
    if item.state == "withdrawn":
        raise Unavailable(410)
    if proposed_by:
        if not is_proposed_by(viewer, item):
            raise Unavailable(404)
        return item
    if proposals and is_proposal_for(viewer, item):
        return item
    if not may_view_item(viewer, item):
        raise Unavailable(404)
    return item


# --- collections ----------------------------------------------------------------------------
# A collection is seen by: anyone when public; the circle's members when "circle"; its
# curators (circle facilitators, admins) always. Its entries additionally need the item's
# own consent: visible to the viewer, "may appear in collections", and — in a public
# collection, a share link, a feed or a pack — an audience of public.


def may_curate(viewer, collection) -> bool:
    return may_manage_circle(viewer, collection.circle)


def may_view_collection(viewer, collection) -> bool:
    if collection is None:
        return False
    if collection.state == "public" or may_curate(viewer, collection):
        return True
    return collection.state == "circle" and is_member(viewer, collection.circle)


def may_enter_collection(item: Item, collection) -> bool:
    """May this item be part of this collection, by its own consent?"""
    if item is None or not item.active or item.consent is None:
        return False
    if not item.consent.allow_collections or item.circle_id != collection.circle_id:
        return False
    if collection.state == "public":
        return effective_audience(item.consent) == "public"
    return True


def shown_entries(
    viewer, collection, *, public_only: bool = False, permission: Optional[str] = None
) -> list:
    """The entries this viewer sees, in order. ``public_only`` for share links, feeds and
    packs; ``permission`` ("allow_packs", "allow_embeds") for what needs more consent.
    Each is checked here, one by one, with everything the check and the page need
    loaded beforehand in a fixed number of statements (``entries_of``)."""
    shown = []
    for entry in entries_of(collection):
        item = entry.item
        if not may_enter_collection(item, collection):
            continue
        if public_only and effective_audience(item.consent) != "public":
            continue
        if permission and not getattr(item.consent, permission):
            continue
        if public_only or may_view_item(viewer, item):
            shown.append(entry)
    return shown


def entries_of(collection) -> list:
    """A collection's entries in order, each with its item, the item's consent,
    contributor (and their account) and current version (and its picture) loaded in the
    same statement, so a check or a page reads no more per entry, and an erasure
    committed meanwhile cannot leave an entry's item half loaded. Nothing is decided here:
    ``shown_entries`` checks every entry."""
    from archive.models import Entry

    return list(
        db.session.scalars(
            select(Entry)
            .where(Entry.collection_id == collection.id)
            .order_by(Entry.position)
            .options(
                joinedload(Entry.item).options(
                    joinedload(Item.consent),
                    joinedload(Item.contributor).joinedload(Contributor.account),
                    joinedload(Item.current).joinedload(Revision.media),
                )
            )
        ).unique()
    )


def visible_collections(viewer):
    """``select(Collection)`` limited to what the viewer may open."""
    from archive.models import Collection

    allowed = [Collection.state == "public"]
    account = _signed_in(viewer)
    if account is not None:
        if account.is_admin:
            return select(Collection)
        member_of = select(Membership.circle_id).where(Membership.account_id == account.id)
        curates = member_of.where(Membership.role == "facilitator")
        allowed += [
            and_(Collection.state == "circle", Collection.circle_id.in_(member_of)),
            Collection.circle_id.in_(curates),
        ]
    return select(Collection).where(or_(*allowed))


def may_embed(item: Optional[Item]) -> bool:
    """Advocates may quote or embed it: public, and its author said yes."""
    return (
        item is not None
        and item.active
        and item.consent is not None
        and item.consent.allow_embeds
        and effective_audience(item.consent) == "public"
    )


def is_public(item: Optional[Item]) -> bool:
    """Shown to the whole world (feeds, sitemap, Open Graph): active and public now."""
    return (
        item is not None
        and item.active
        and item.consent is not None
        and effective_audience(item.consent) == "public"
    )


# --- what other places may show of an item --------------------------------------------------
# Content notes and "quote or show on other websites" hold on every surface (design.md).
# Where a reader cannot open a note first (feeds, link previews, oEmbed), a piece's words and
# picture go only where ``may_republish``; elsewhere the words of a ``noted`` piece wait
# behind its notes, opened by the reader's choice.


def noted(item: Optional[Item]) -> list[str]:
    """The content notes a reader meets before the piece's words and picture."""
    if item is None or item.consent is None:
        return []
    return item.consent.content_notes


def may_republish(item: Optional[Item]) -> bool:
    """May its words and picture be shown away from the archive, where no note can be opened
    first? Public now, its author allows quoting, and no content note."""
    return may_embed(item) and not noted(item)


# --- circle events ---
# Who runs a circle, and every change an admin makes to that, is the circle's to know.


def may_view_circle_events(viewer, circle: Circle) -> bool:
    """The changes to who facilitates a circle (``CircleEvent``): everyone who may open the
    circle's page, its members and admins. They hold no content, only names and dates."""
    return may_view_circle(viewer, circle)


# --- a circle's tags ---
# Which tags of a circle mean the same (``TagConcept``) is its facilitators' to say, and the
# site's admins'; what they see of the tags comes from the pieces they may see.


def may_manage_tags(viewer, circle: Circle) -> bool:
    """Join a circle's tags into concepts, label and split them, and read the changes made
    to them: the circle's facilitators and admins."""
    return may_manage_circle(viewer, circle)


def tag_changes_shown(viewer, circle: Circle):
    """A filter for ``select(CircleEvent)`` of ``circle``: the changes to its tags, for
    those who may manage them; nothing for anyone else."""
    from archive.models import CircleEvent

    if not may_manage_tags(viewer, circle):
        return false()
    return CircleEvent.event.in_(TAG_EVENTS)


# --- password help ---
# Without email, a member who forgot their password asks a person: a facilitator of their
# circle (for a participant) or an admin (for anyone). The link made for them is recorded in
# their circles' events, shown to those circles' facilitators, admins and the member alone.


def may_help_with_password(viewer, account: Optional[Account]) -> bool:
    """May ``viewer`` make ``account`` a link to choose a new password? An admin for anyone
    but himself; a facilitator for the participants of the circles they facilitate (never
    for another facilitator or an admin)."""
    helper = _signed_in(viewer)
    if helper is None or account is None or not account.active or helper.id == account.id:
        return False
    if helper.is_admin:
        return True
    if account.role != "participant":
        return False
    facilitated = {circle for circle, role in roles(helper).items() if role == "facilitator"}
    return not facilitated.isdisjoint(roles(account))


def password_help_shown(viewer, circle: Circle):
    """A filter for ``select(CircleEvent)`` of ``circle``, for its page (who runs it): the
    help given to its members is shown to those who may manage the circle and to the member
    it was for; the rest of the events to everyone who may see them
    (``may_view_circle_events``). Changes to its tags are not among them
    (``tag_changes_shown``)."""
    from archive.models import CircleEvent

    who_runs = CircleEvent.event.not_in(TAG_EVENTS)
    if may_manage_circle(viewer, circle):
        return who_runs
    account = _signed_in(viewer)
    others = and_(who_runs, CircleEvent.event != "password_help")
    return others if account is None else or_(others, CircleEvent.subject_id == account.id)

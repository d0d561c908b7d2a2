"""Circles and their members. Every change to who facilitates a circle, and every admin
joining or leaving one, is recorded as a content-free ``CircleEvent`` its members are shown;
so is a link made for a member to choose a new password (shown to the circle's facilitators
and that member)."""

from __future__ import annotations

import re
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from archive.db import db
from archive.models import CIRCLE_ROLES, Account, Circle, CircleEvent, Membership
from archive.operations import Refused
from archive.text import one_line

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
LANGUAGES = ("en", "hi", "mr", "other")


def create_circle(slug: str, name: str, description: str = "", languages: str = "en") -> Circle:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise Refused(
            _l("A short name for links uses 3 to 64 small letters, digits and hyphens."),
            field="slug",
        )
    if db.session.scalar(select(Circle.id).where(Circle.slug == slug)):
        raise Refused(_l("A circle with that short name already exists."), field="slug")
    name = one_line(name)
    if not name or len(name) > 120:
        raise Refused(_l("Please give the circle a name (up to 120 characters)."), field="name")
    chosen = [code for code in (languages or "").split() if code in LANGUAGES] or ["en"]
    circle = Circle(
        slug=slug, name=name, description=one_line(description)[:1000], languages=" ".join(chosen)
    )
    db.session.add(circle)
    db.session.flush()
    return circle


def add_member(
    circle: Circle, account: Account, role: str = "participant", by: Optional[Account] = None
) -> Membership:
    """Add ``account`` to ``circle`` (or change its role there). ``by``: who did it (None:
    the command line or the site's set-up)."""
    if role not in CIRCLE_ROLES:
        raise Refused(_l("Unknown role."), field="role")
    if role == "facilitator" and account.role == "participant":
        raise Refused(_l("Only a facilitator account can facilitate a circle."), field="role")
    found = db.session.scalar(
        select(Membership).where(
            Membership.account_id == account.id, Membership.circle_id == circle.id
        )
    )
    before = found.role if found is not None else None
    if found is None:
        found = Membership(account=account, circle=circle, role=role)
        db.session.add(found)
    else:
        found.role = role
    record_change(circle, account, before, role, by)
    db.session.flush()
    return found


def remove_member(circle: Circle, account: Account, by: Optional[Account] = None) -> None:
    found = db.session.scalar(
        select(Membership).where(
            Membership.account_id == account.id, Membership.circle_id == circle.id
        )
    )
    if found is None:
        raise Refused(_l("That person is not in this circle."), status=404)
    record_change(circle, account, found.role, None, by)
    db.session.delete(found)
    db.session.flush()


def record_change(
    circle: Circle,
    account: Account,
    before: Optional[str],
    after: Optional[str],
    by: Optional[Account],
) -> Optional[CircleEvent]:
    """Note what the circle's members are shown of a role going from ``before`` to
    ``after`` (None: not in the circle): a facilitator coming or going, or an admin joining
    or leaving. Participants coming and going are theirs and the facilitators' to know."""
    event = _event_for(before, after, account.is_admin)
    if event is None:
        return None
    noted = CircleEvent(
        circle_id=circle.id,
        event=event,
        subject_id=account.id,
        actor_id=by.id if by is not None else None,
        actor_role=by.role if by is not None else "site",
    )
    db.session.add(noted)
    return noted


def _event_for(before: Optional[str], after: Optional[str], admin: bool) -> Optional[str]:
    if after == "facilitator" and before != "facilitator":
        return "facilitator_added"
    if before == "facilitator" and after != "facilitator":
        return "facilitator_removed"
    if admin and before is None and after is not None:
        return "admin_joined"
    if admin and before is not None and after is None:
        return "admin_left"
    return None


def record_password_help(account: Account, by: Account) -> list[CircleEvent]:
    """Note, in every circle of ``account``, that ``by`` made them a link to choose a new
    password (shown to each circle's facilitators and to the member: ``access``)."""
    circles = db.session.scalars(
        select(Membership.circle_id).where(Membership.account_id == account.id)
    )
    noted = [
        CircleEvent(
            circle_id=circle_id,
            event="password_help",
            subject_id=account.id,
            actor_id=by.id,
            actor_role=by.role,
        )
        for circle_id in circles
    ]
    db.session.add_all(noted)
    return noted

"""Circles and their members."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from archive.db import db
from archive.models import CIRCLE_ROLES, Account, Circle, Membership
from archive.operations import Refused
from archive.text import one_line

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
LANGUAGES = ("en", "hi", "mr", "other")


def create_circle(slug: str, name: str, description: str = "",
                  languages: str = "en") -> Circle:
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise Refused(_l("A short name for links uses 3 to 64 small letters, digits and "
                         "hyphens."), field="slug")
    if db.session.scalar(select(Circle.id).where(Circle.slug == slug)):
        raise Refused(_l("A circle with that short name already exists."), field="slug")
    name = one_line(name)
    if not name or len(name) > 120:
        raise Refused(_l("Please give the circle a name (up to 120 characters)."),
                      field="name")
    chosen = [code for code in (languages or "").split() if code in LANGUAGES] or ["en"]
    circle = Circle(slug=slug, name=name, description=one_line(description)[:1000],
                    languages=" ".join(chosen))
    db.session.add(circle)
    db.session.flush()
    return circle


def add_member(circle: Circle, account: Account, role: str = "participant") -> Membership:
    """Add ``account`` to ``circle`` (or change its role there)."""
    if role not in CIRCLE_ROLES:
        raise Refused(_l("Unknown role."), field="role")
    if role == "facilitator" and account.role == "participant":
        raise Refused(_l("Only a facilitator account can facilitate a circle."), field="role")
    found = db.session.scalar(select(Membership).where(
        Membership.account_id == account.id, Membership.circle_id == circle.id))
    if found is None:
        found = Membership(account=account, circle=circle, role=role)
        db.session.add(found)
    else:
        found.role = role
    db.session.flush()
    return found


def remove_member(circle: Circle, account: Account) -> None:
    found = db.session.scalar(select(Membership).where(
        Membership.account_id == account.id, Membership.circle_id == circle.id))
    if found is None:
        raise Refused(_l("That person is not in this circle."), status=404)
    db.session.delete(found)
    db.session.flush()

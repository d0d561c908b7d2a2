"""THE access rule: the only place that decides who may see or manage what.

Views, templates, the API and the CLI ask here; none of them decides on its own.
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from archive.db import db
from archive.models import Account, Circle, Membership


def _signed_in(viewer) -> Optional[Account]:
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    return viewer


def membership(viewer, circle: Circle) -> Optional[Membership]:
    account = _signed_in(viewer)
    if account is None:
        return None
    return db.session.scalar(select(Membership).where(
        Membership.account_id == account.id, Membership.circle_id == circle.id))


def is_member(viewer, circle: Circle) -> bool:
    return membership(viewer, circle) is not None


def is_facilitator(viewer, circle: Circle) -> bool:
    found = membership(viewer, circle)
    return found is not None and found.role == "facilitator"


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

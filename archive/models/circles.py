"""Circles (communities), who belongs to them, and the invites that bring people in."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Model, one_of, utcnow
from archive.models.accounts import ROLES, Account

CIRCLE_ROLES = ("participant", "facilitator")
#: what a circle's members are shown about who runs it, or who of the site's admins sits in it;
#: and, to its facilitators and the member concerned, a link made for a member to choose a new
#: password ("password_help"); and, to its facilitators, the changes to its tag concepts
#: (which tags were joined or split is not kept: only that it was done, by whom and when)
#: the changes to a circle's tag concepts (``archive.operations.tags``)
TAG_EVENTS = ("tags_joined", "tags_relabelled", "tags_split")
CIRCLE_EVENTS = (
    "facilitator_added",
    "facilitator_removed",
    "admin_joined",
    "admin_left",
    "password_help",
    *TAG_EVENTS,
)
#: the acting account's role on the site; "site" when no account acted (command line, set-up)
EVENT_ACTOR_ROLES = ROLES + ("site",)


class Circle(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(1000), default="")
    #: space-separated language codes the circle writes in, e.g. "hi en"
    languages: Mapped[str] = mapped_column(String(64), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="circle", cascade="all, delete-orphan"
    )


class Membership(Model):
    __table_args__ = (UniqueConstraint("account_id", "circle_id"), one_of("role", CIRCLE_ROLES))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    circle_id: Mapped[int] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default="participant")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Account] = relationship(back_populates="memberships")
    circle: Mapped[Circle] = relationship(back_populates="memberships")


class Invite(Model):
    """A single-use, expiring link to join a circle. Only a SHA-256 of the token is kept."""

    __table_args__ = (one_of("role", CIRCLE_ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    circle_id: Mapped[int] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default="participant")
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[Optional[datetime]]
    used_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    revoked_at: Mapped[Optional[datetime]]

    circle: Mapped[Circle] = relationship()
    created_by: Mapped[Optional[Account]] = relationship(foreign_keys=[created_by_id])


class CircleEvent(Model):
    """Append-only and content-free, like the consent ledger: which circle, what happened
    (one of ``CIRCLE_EVENTS``), to whom, who did it and in which role, and when. No free text.
    Shown to the circle's members, so that no one gains a facilitator's view of a circle
    unseen (``archive.operations.circles`` records them)."""

    __table_args__ = (one_of("event", CIRCLE_EVENTS), one_of("actor_role", EVENT_ACTOR_ROLES))

    id: Mapped[int] = mapped_column(primary_key=True)
    circle_id: Mapped[int] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[Optional[int]] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    subject: Mapped[Optional[Account]] = relationship(foreign_keys=[subject_id])
    actor: Mapped[Optional[Account]] = relationship(foreign_keys=[actor_id])

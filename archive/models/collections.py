"""Collections: a circle's consented items woven into one shared, living document."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from markupsafe import Markup
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Model, one_of, utcnow
from archive.models.accounts import Account
from archive.models.circles import Circle
from archive.models.items import Item

STATES = ("draft", "circle", "public")


class Collection(Model):
    __table_args__ = (one_of("state", STATES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    circle_id: Mapped[int] = mapped_column(ForeignKey("circle.id"), index=True)
    curator_id: Mapped[Optional[int]] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    current_intro_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("collection_intro.id", use_alter=True, ondelete="SET NULL")
    )
    #: how many entries left because their consent changed, since the curator last looked
    removed_unseen: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    circle: Mapped[Circle] = relationship()
    curator: Mapped[Optional[Account]] = relationship()
    intro: Mapped[Optional[CollectionIntro]] = relationship(
        foreign_keys=[current_intro_id], post_update=True
    )
    entries: Mapped[list[Entry]] = relationship(
        back_populates="collection", order_by="Entry.position", cascade="all, delete-orphan"
    )


class CollectionIntro(Model):
    """The collection's introduction, versioned like items: never updated in place."""

    __table_args__ = (UniqueConstraint("collection_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collection.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the body as safe HTML and its one-line description, made once when the intro is
    #: saved (``archive.text.rendered``), like a revision's
    html: Mapped[str] = mapped_column(Text, default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def shown_html(self) -> Markup:
        """The body as HTML for a page: made safe (nh3) when the intro was saved."""
        return Markup(self.html)


class Entry(Model):
    __table_args__ = (UniqueConstraint("collection_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collection.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    position: Mapped[int]
    note: Mapped[str] = mapped_column(String(500), default="")
    added_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL")
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    collection: Mapped[Collection] = relationship(back_populates="entries")
    item: Mapped[Item] = relationship()


class ShareLink(Model):
    """An unlisted, read-only, expiring link for partners. Only a hash of its token."""

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("collection.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[Optional[datetime]]

    collection: Mapped[Collection] = relationship()

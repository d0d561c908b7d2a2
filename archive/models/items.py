"""Items and their append-only revisions, the people they belong to, tags and artwork files."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

from markupsafe import Markup
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Model, one_of, utcnow
from archive.models.accounts import Account
from archive.models.circles import Circle

if TYPE_CHECKING:
    from archive.models.consent import Consent

KINDS = ("knowhow", "poem", "story", "artwork")
LANGUAGES = ("en", "hi", "mr", "other")
#: active: shown by the access rule; proposed: recorded by a facilitator for a member, waiting
#: for them; withdrawn: a tombstone (``archive.operations.withdraw``)
ITEM_STATES = ("active", "proposed", "withdrawn")
#: a live item belongs to someone, somewhere; only a tombstone has lost them
LIVE_ITEM_IS_WHOLE = (
    "state = 'withdrawn' OR (kind IS NOT NULL AND circle_id IS NOT NULL "
    "AND contributor_id IS NOT NULL)"
)
#: a tombstone keeps nothing that could say whose or what it was
TOMBSTONE_KEEPS_NOTHING = (
    "state <> 'withdrawn' OR (kind IS NULL AND circle_id IS NULL "
    "AND contributor_id IS NULL AND current_revision_id IS NULL)"
)


class Contributor(Model):
    """The person an item belongs to: an account holder, or someone without an account whose
    profile (a pseudonym only) a facilitator of ``circle`` keeps for them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), unique=True
    )
    circle_id: Mapped[Optional[int]] = mapped_column(ForeignKey("circle.id"))
    pseudonym: Mapped[Optional[str]] = mapped_column(String(80))
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    account: Mapped[Optional[Account]] = relationship(foreign_keys=[account_id])
    circle: Mapped[Optional[Circle]] = relationship()

    @property
    def has_account(self) -> bool:
        return self.account_id is not None

    @property
    def name(self) -> str:
        """The name shown when attribution is "name"."""
        if self.account is not None:
            return self.account.shown_name
        return self.pseudonym or ""


class Item(Model):
    """A living document. After withdrawal only ``id``, ``public_id``, ``state`` and the time
    remain: the database itself refuses a tombstone with a kind, circle, contributor or
    revision, and a live item without its kind, circle and contributor."""

    __table_args__ = (
        one_of("kind", KINDS),
        one_of("state", ITEM_STATES),
        CheckConstraint(LIVE_ITEM_IS_WHOLE, name="live_item_is_whole"),
        CheckConstraint(TOMBSTONE_KEEPS_NOTHING, name="tombstone_keeps_nothing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[Optional[str]] = mapped_column(String(16))
    circle_id: Mapped[Optional[int]] = mapped_column(ForeignKey("circle.id"), index=True)
    contributor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contributor.id"), index=True)
    #: indexed: deleting a revision (an erasure) looks up the item pointing at it
    current_revision_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("revision.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[Optional[datetime]]

    circle: Mapped[Optional[Circle]] = relationship()
    contributor: Mapped[Optional[Contributor]] = relationship()
    current: Mapped[Optional[Revision]] = relationship(
        foreign_keys=[current_revision_id], post_update=True
    )
    consent: Mapped[Optional[Consent]] = relationship(back_populates="item", uselist=False)

    @property
    def active(self) -> bool:
        return self.state == "active"


class MediaAsset(Model):
    """The stored derivatives of one uploaded artwork. The uploaded bytes are never kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    #: {name: {key, width, height, bytes, sha256, content_type}}
    derivatives: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSON)
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Revision(Model):
    """One saved state of an item. **Never updated in place**: restoring writes a new one."""

    __table_args__ = (UniqueConstraint("item_id", "number"), one_of("language", LANGUAGES))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    #: indexed: deleting a media asset (an erasure) looks up the revisions showing it
    media_asset_id: Mapped[Optional[int]] = mapped_column(ForeignKey("media_asset.id"), index=True)
    alt_text: Mapped[str] = mapped_column(String(1000), default="")
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    restored_from: Mapped[Optional[int]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: what readers are shown of ``body``, made once when the revision is saved
    #: (``archive.text.rendered``; migration 0016 for older ones) and never on a read: the
    #: body as safe HTML, its plain excerpt (a poem's lines kept) and its one-line
    #: description (meta tags, link previews; the alt text when there are no words)
    html: Mapped[str] = mapped_column(Text, default="", server_default="")
    excerpt: Mapped[str] = mapped_column(Text, default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")

    media: Mapped[Optional[MediaAsset]] = relationship()
    author: Mapped[Optional[Account]] = relationship()
    tag_rows: Mapped[list[RevisionTag]] = relationship(
        order_by="RevisionTag.position",
        lazy="selectin",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def shown_html(self) -> Markup:
        """The body as HTML for a page: made safe (nh3) when the revision was saved."""
        return Markup(self.html)

    @property
    def tags(self) -> list[str]:
        """The tags as they were at this revision, in the order they were given."""
        return [row.tag for row in self.tag_rows]


class RevisionTag(Model):
    """One tag of one revision: the only place tags are kept. A revision's tags are part of
    its history (a restore brings them back); an item's tags now are its current revision's,
    found through ``Item.current_revision_id`` (tag pages, tag lists, the search index)."""

    __table_args__ = (Index("ix_revision_tag_tag", "tag"),)

    revision_id: Mapped[int] = mapped_column(
        ForeignKey("revision.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int]

"""Items and their append-only revisions, the people they belong to, tags and artwork files."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Model, utcnow
from archive.models.accounts import Account
from archive.models.circles import Circle

if TYPE_CHECKING:
    from archive.models.consent import Consent

KINDS = ("knowhow", "poem", "story", "artwork")
LANGUAGES = ("en", "hi", "mr", "other")


class Contributor(Model):
    """The person an item belongs to: an account holder, or someone without an account whose
    profile (a pseudonym only) a facilitator of ``circle`` keeps for them."""
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), unique=True)
    circle_id: Mapped[Optional[int]] = mapped_column(ForeignKey("circle.id"))
    pseudonym: Mapped[Optional[str]] = mapped_column(String(80))
    created_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
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
    remain."""
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[Optional[str]] = mapped_column(String(16))
    circle_id: Mapped[Optional[int]] = mapped_column(ForeignKey("circle.id"), index=True)
    contributor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contributor.id"),
                                                          index=True)
    #: indexed: deleting a revision (an erasure) looks up the item pointing at it
    current_revision_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("revision.id", use_alter=True, ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[Optional[datetime]]

    circle: Mapped[Optional[Circle]] = relationship()
    contributor: Mapped[Optional[Contributor]] = relationship()
    current: Mapped[Optional[Revision]] = relationship(foreign_keys=[current_revision_id],
                                                         post_update=True)
    consent: Mapped[Optional[Consent]] = relationship(back_populates="item",
                                                        uselist=False)

    @property
    def active(self) -> bool:
        return self.state == "active"


class MediaAsset(Model):
    """The stored derivatives of one uploaded artwork. The uploaded bytes are never kept."""
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    #: JSON: {name: {key, width, height, bytes, sha256, content_type}}
    derivatives_json: Mapped[str] = mapped_column(Text)
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def derivatives(self) -> dict[str, dict]:
        return json.loads(self.derivatives_json)


class Revision(Model):
    """One saved state of an item. **Never updated in place**: restoring writes a new one."""
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    #: JSON list: the tags as they were at this revision
    tags_json: Mapped[str] = mapped_column(Text, default="[]")
    #: indexed: deleting a media asset (an erasure) looks up the revisions showing it
    media_asset_id: Mapped[Optional[int]] = mapped_column(ForeignKey("media_asset.id"),
                                                          index=True)
    alt_text: Mapped[str] = mapped_column(String(1000), default="")
    author_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    restored_from: Mapped[Optional[int]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    media: Mapped[Optional[MediaAsset]] = relationship()
    author: Mapped[Optional[Account]] = relationship()

    @property
    def tags(self) -> list[str]:
        return json.loads(self.tags_json or "[]")


class ItemTag(Model):
    """The current revision's tags, kept beside it so tag pages and facets are one query."""
    __table_args__ = (Index("ix_item_tag_tag", "tag"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"),
                                         primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)

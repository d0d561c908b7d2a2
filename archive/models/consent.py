"""Consent: the one current agreement per item, and the content-free ledger of changes."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Model, utcnow
from archive.models.accounts import Account
from archive.models.items import Item

AUDIENCES = ("private", "circle", "public")
ATTRIBUTIONS = ("name", "pseudonym", "anonymous")
METHODS = ("self", "written", "verbal")
CONTENT_NOTES = ("grief", "self-harm", "suicide", "abuse", "violence", "illness",
                 "substance-use")


class Consent(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), unique=True)
    audience: Mapped[str] = mapped_column(String(16), default="private")
    attribution: Mapped[str] = mapped_column(String(16), default="anonymous")
    pseudonym: Mapped[Optional[str]] = mapped_column(String(80))
    allow_collections: Mapped[bool] = mapped_column(default=False)
    allow_embeds: Mapped[bool] = mapped_column(default=False)
    allow_packs: Mapped[bool] = mapped_column(default=False)
    #: JSON list of codes from CONTENT_NOTES
    content_notes_json: Mapped[str] = mapped_column(Text, default="[]")
    review_by: Mapped[Optional[date]]
    method: Mapped[str] = mapped_column(String(16), default="self")
    recorded_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    receipt_id: Mapped[str] = mapped_column(String(40), unique=True)
    withdrawal_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship(back_populates="consent")
    recorded_by: Mapped[Optional[Account]] = relationship()

    @property
    def content_notes(self) -> list[str]:
        return json.loads(self.content_notes_json or "[]")

    def review_passed(self, today: date) -> bool:
        return self.review_by is not None and self.review_by < today


class ConsentEvent(Model):
    """Append-only ledger. **Never** a title, body, tag, filename or free text: only which
    item (by public id), what happened, which consent fields went from what to what, who
    acted and when. It survives erasure."""
    id: Mapped[int] = mapped_column(primary_key=True)
    item_public_id: Mapped[str] = mapped_column(String(24), index=True)
    circle_id: Mapped[Optional[int]] = mapped_column(ForeignKey("circle.id"), index=True)
    contributor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contributor.id"),
                                                          index=True)
    event: Mapped[str] = mapped_column(String(24))
    #: JSON {field: [from, to]} over consent fields with enumerated values only
    change_json: Mapped[str] = mapped_column(Text, default="{}")
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("account.id",
                                                               ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(16), default="contributor")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def change(self) -> dict:
        return json.loads(self.change_json or "{}")

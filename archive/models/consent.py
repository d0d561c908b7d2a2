"""Consent: the one current agreement per item, and the content-free ledger of changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Model, one_of, utcnow
from archive.models.accounts import Account
from archive.models.items import LANGUAGES, Item

AUDIENCES = ("private", "circle", "public")
ATTRIBUTIONS = ("name", "pseudonym", "anonymous")
METHODS = ("self", "written", "verbal")
CONTENT_NOTES = ("grief", "self-harm", "suicide", "abuse", "violence", "illness", "substance-use")
#: what the ledger records: a piece shared, proposed to a member, agreed to by them, its
#: consent changed or its review confirmed, taken back, or a proposal declined
CONSENT_EVENTS = ("granted", "proposed", "agreed", "changed", "confirmed", "withdrawn", "declined")
#: who acted on a piece's consent: its contributor, a facilitator of its circle, someone with
#: the receipt's withdrawal code, or a restore from backup replaying a later event
CONSENT_ACTORS = ("contributor", "facilitator", "code", "replay")


class Consent(Model):
    __table_args__ = (
        one_of("audience", AUDIENCES),
        one_of("attribution", ATTRIBUTIONS),
        one_of("method", METHODS),
        one_of("language", LANGUAGES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), unique=True)
    audience: Mapped[str] = mapped_column(String(16), default="private")
    attribution: Mapped[str] = mapped_column(String(16), default="anonymous")
    pseudonym: Mapped[Optional[str]] = mapped_column(String(80))
    allow_collections: Mapped[bool] = mapped_column(default=False)
    allow_embeds: Mapped[bool] = mapped_column(default=False)
    allow_packs: Mapped[bool] = mapped_column(default=False)
    #: codes from CONTENT_NOTES
    content_notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_by: Mapped[Optional[date]]
    method: Mapped[str] = mapped_column(String(16), default="self")
    recorded_by_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL")
    )
    receipt_id: Mapped[str] = mapped_column(String(40), unique=True)
    withdrawal_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship(back_populates="consent")
    recorded_by: Mapped[Optional[Account]] = relationship()

    def review_passed(self, today: date) -> bool:
        return self.review_by is not None and self.review_by < today


class ConsentEvent(Model):
    """Append-only ledger. **Never** a title, body, tag, filename or free text: only which
    item (by public id), what happened, which consent fields went from what to what, who
    acted and when. It survives erasure."""

    __table_args__ = (one_of("event", CONSENT_EVENTS), one_of("actor_role", CONSENT_ACTORS))

    id: Mapped[int] = mapped_column(primary_key=True)
    item_public_id: Mapped[str] = mapped_column(String(24), index=True)
    circle_id: Mapped[Optional[int]] = mapped_column(ForeignKey("circle.id"), index=True)
    contributor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("contributor.id"), index=True)
    event: Mapped[str] = mapped_column(String(24))
    #: {field: [from, to]} over consent fields with enumerated values only
    change: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(16), default="contributor")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Tag concepts: the tags of a circle's pieces that mean the same ("sleep", "नींद", "झोप"),
joined by its facilitators into one, with a label in each language the archive speaks.

A concept holds nothing a piece's contributor wrote but the tag words it joins, matched by
value to the tags of the circle's pieces (``RevisionTag``). When the last piece of the
circle carrying one of them is erased, its word goes from here too
(``archive.operations.tags.forget_erased_tags``): a concept never keeps a tag alive.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.db import Model, utcnow

#: the languages a concept is labelled in, in the order a missing label is looked for
CONCEPT_LOCALES = ("en", "hi", "mr")
MAX_LABEL = 40


class TagConcept(Model):
    """One meaning in one circle. Its labels are the facilitator's own words."""

    id: Mapped[int] = mapped_column(primary_key=True)
    circle_id: Mapped[int] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"), index=True)
    label_en: Mapped[str] = mapped_column(String(MAX_LABEL), default="")
    label_hi: Mapped[str] = mapped_column(String(MAX_LABEL), default="")
    label_mr: Mapped[str] = mapped_column(String(MAX_LABEL), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[ConceptTag]] = relationship(
        order_by="ConceptTag.tag",
        lazy="selectin",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def tags(self) -> list[str]:
        return [member.tag for member in self.members]

    def labels(self) -> dict[str, str]:
        return {locale: getattr(self, f"label_{locale}") for locale in CONCEPT_LOCALES}

    def label(self, locale: str) -> str:
        """The label in ``locale``, else the first other label there is; "" when none."""
        labels = self.labels()
        found = labels.get(locale) or next((text for text in labels.values() if text), "")
        return found


class ConceptTag(Model):
    """One tag word of a concept. A tag means one thing in a circle: it belongs to at most
    one of the circle's concepts."""

    __table_args__ = (UniqueConstraint("circle_id", "tag"), Index("ix_concept_tag_tag", "tag"))

    concept_id: Mapped[int] = mapped_column(
        ForeignKey("tag_concept.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    circle_id: Mapped[int] = mapped_column(ForeignKey("circle.id", ondelete="CASCADE"))

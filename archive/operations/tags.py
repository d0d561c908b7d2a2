"""A circle's tag vocabulary: its facilitators (and admins) join tags that mean the same
into one concept, label it in English, Hindi and Marathi, and split it again.

Each change is noted as a content-free ``CircleEvent`` (what was done, by whom, when: never
which tags or labels). A concept keeps no tag its circle's pieces no longer carry: an
erasure takes the erased piece's last words out (`forget_erased_tags`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Optional

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import aliased

from archive import access, vocabulary
from archive.db import db, utcnow, write_lock
from archive.models import (
    CONCEPT_LOCALES,
    Account,
    Circle,
    CircleEvent,
    ConceptTag,
    Item,
    Revision,
    RevisionTag,
    TagConcept,
)
from archive.models.tags import MAX_LABEL
from archive.operations import Problems, Refused
from archive.text import one_line


def join(
    actor: Account, circle: Circle, tags: Iterable[str], labels: Mapping[str, str]
) -> TagConcept:
    """Join ``tags`` of ``circle`` into one concept labelled ``labels`` ({locale: text}).
    A chosen tag already in a concept brings that concept in: they become one (the oldest
    stays, with the new labels)."""
    _may_manage(actor, circle)
    write_lock()
    chosen = sorted({one_line(tag).lower() for tag in tags} - {""})
    problems = Problems()
    with problems.gathered():
        _check_tags(actor, circle, chosen)
    with problems.gathered():
        cleaned = _clean_labels(labels)
    problems.raise_any()
    joined = _concepts_holding(circle, chosen)
    concept = joined[0] if joined else TagConcept(circle_id=circle.id)
    for other in joined[1:]:
        chosen += other.tags
        db.session.delete(other)
    db.session.flush()
    _check_labels_free(circle, cleaned, keep=concept)
    _label(concept, cleaned)
    known = set(concept.tags)
    concept.members += [
        ConceptTag(tag=tag, circle_id=circle.id) for tag in sorted(set(chosen)) if tag not in known
    ]
    db.session.add(concept)
    _note(circle, "tags_joined", actor)
    db.session.flush()
    return concept


def relabel(
    actor: Account, circle: Circle, concept_id: int, labels: Mapping[str, str]
) -> TagConcept:
    _may_manage(actor, circle)
    write_lock()
    concept = _concept(circle, concept_id)
    cleaned = _clean_labels(labels)
    _check_labels_free(circle, cleaned, keep=concept)
    _label(concept, cleaned)
    _note(circle, "tags_relabelled", actor)
    db.session.flush()
    return concept


def split(actor: Account, circle: Circle, concept_id: int) -> None:
    """The concept goes; its tags are each their own again."""
    _may_manage(actor, circle)
    write_lock()
    db.session.delete(_concept(circle, concept_id))
    _note(circle, "tags_split", actor)
    db.session.flush()


def forget_erased_tags(item: Item) -> None:
    """Sent as ``item`` is erased, before its rows go: each tag of its versions that no
    other piece of its circle carries (in any version) leaves the circle's concepts, and a
    concept left with no tag goes, so no concept keeps a word of an erased piece."""
    if item.circle_id is None:
        return
    own = select(RevisionTag.tag).join(Revision).where(Revision.item_id == item.id)
    other = aliased(Item)
    elsewhere = (
        select(RevisionTag.tag)
        .join(Revision, Revision.id == RevisionTag.revision_id)
        .join(other, other.id == Revision.item_id)
        .where(
            RevisionTag.tag == ConceptTag.tag,
            other.circle_id == item.circle_id,
            other.id != item.id,
        )
    )
    db.session.execute(
        delete(ConceptTag)
        .where(ConceptTag.circle_id == item.circle_id, ConceptTag.tag.in_(own), ~exists(elsewhere))
        .execution_options(synchronize_session="fetch")
    )
    empty = ~exists(select(ConceptTag.tag).where(ConceptTag.concept_id == TagConcept.id))
    db.session.execute(
        delete(TagConcept)
        .where(TagConcept.circle_id == item.circle_id, empty)
        .execution_options(synchronize_session="fetch")
    )


# --- checks ---------------------------------------------------------------------------------


def _may_manage(actor: Optional[Account], circle: Circle) -> None:
    """Refused as if the circle were not there: no one learns of a vocabulary not theirs."""
    if not access.may_manage_tags(actor, circle):
        raise Refused(_l("That circle was not found."), status=404)


def _check_tags(actor: Account, circle: Circle, chosen: list[str]) -> None:
    if not chosen:
        raise Refused(_l("Please choose the tags that mean the same."), field="tags")
    seen = vocabulary.tag_counts(actor, circle)
    if any(tag not in seen for tag in chosen):
        raise Refused(_l("Please choose tags of this circle's pieces."), field="tags")


def _clean_labels(labels: Mapping[str, str]) -> dict[str, str]:
    cleaned = {locale: one_line(labels.get(locale, "")) for locale in CONCEPT_LOCALES}
    problems = Problems()
    for locale, text in cleaned.items():
        if len(text) > MAX_LABEL or "," in text:
            problems.add(
                _l("A name is a word or a few words (up to 40 letters), without commas."),
                field=f"label_{locale}",
            )
    if not any(cleaned.values()):
        problems.add(_l("Please give it a name in at least one language."), field="label_en")
    problems.raise_any()
    return cleaned


def _check_labels_free(circle: Circle, labels: Mapping[str, str], keep: TagConcept) -> None:
    """A label is a word of its concept (a piece tagged with it carries the concept), so it
    may not be a word of another concept of the circle."""
    words = [text.lower() for text in labels.values() if text]
    for concept in vocabulary.concepts_with(words, fresh=True).values():
        if any(c.circle_id == circle.id and c is not keep for c in concept):
            raise Refused(
                _l("Another concept of this circle already has that name."), field="label_en"
            )


def _concepts_holding(circle: Circle, tags: list[str]) -> list[TagConcept]:
    """The circle's concepts that any of ``tags`` is a word of, oldest first."""
    found = {
        concept.id: concept
        for held in vocabulary.concepts_with(tags, fresh=True).values()
        for concept in held
        if concept.circle_id == circle.id
    }
    return [found[key] for key in sorted(found)]


def _concept(circle: Circle, concept_id: int) -> TagConcept:
    concept = db.session.get(TagConcept, concept_id)
    if concept is None or concept.circle_id != circle.id:
        raise Refused(_l("That concept was not found."), status=404)
    return concept


def _label(concept: TagConcept, labels: Mapping[str, str]) -> None:
    for locale, text in labels.items():
        setattr(concept, f"label_{locale}", text)
    concept.updated_at = utcnow()


def _note(circle: Circle, event: str, actor: Account) -> None:
    db.session.add(
        CircleEvent(circle_id=circle.id, event=event, actor_id=actor.id, actor_role=actor.role)
    )

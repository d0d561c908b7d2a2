"""Reading a circle's tag vocabulary: its tags as a viewer may see them, and the concepts
its facilitators joined them into (``archive.models.TagConcept``).

A concept's words are its member tags and its labels, matched by value: a piece tagged
with any of them, in the concept's circle, carries the concept. Tag pages, search and its
facets expand a tag through here (`words_of`, `concepts_with`) when they ask, so joining
or splitting needs no change to the search index.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from sqlalchemy import and_, func, or_, select

from archive import access
from archive.db import VOCABULARY_KEY, db
from archive.models import Circle, Item, RevisionTag, TagConcept

#: how many of a circle's tags a form offers while tagging
OFFERED = 40


def words_of(concept: TagConcept) -> list[str]:
    """Every tag that carries ``concept``: its members and its labels, as tags are kept
    (one line, lower case)."""
    labels = [label.lower() for label in concept.labels().values() if label]
    return sorted(set(concept.tags) | set(labels))


def concepts_with(tags: Iterable[str], fresh: bool = False) -> dict[str, list[TagConcept]]:
    """For each of ``tags``, the concepts (of any circle) it is a word of, oldest first.
    Read once per unit of work (a search asks three times) and forgotten at its next
    write (`archive.db`); ``fresh``: read now, as an operation deciding on it does."""
    known = db.session.info.get(VOCABULARY_KEY)
    if known is None or fresh:
        known = db.session.info[VOCABULARY_KEY] = _every_word()
    return {tag: known[tag] for tag in dict.fromkeys(tags) if tag in known}


def _every_word() -> dict[str, list[TagConcept]]:
    """Every concept of the site by each of its words: a site has a few hundred at most."""
    words: dict[str, list[TagConcept]] = {}
    for concept in db.session.scalars(select(TagConcept).order_by(TagConcept.id)):
        for word in words_of(concept):
            words.setdefault(word, []).append(concept)
    return words


def named(viewer, concepts: list[TagConcept], locale: str) -> str:
    """The name a tag is shown by: that of its concept in one of the viewer's circles (or,
    for an admin, any), in the viewer's language; "" when it has none there. Another
    circle's names are its own."""
    account_circles = access.roles(viewer)
    for concept in concepts:
        if concept.circle_id in account_circles or access.may_administer(viewer):
            return concept.label(locale)
    return ""


def concepts_of(circle: Circle) -> list[TagConcept]:
    return list(
        db.session.scalars(
            select(TagConcept).where(TagConcept.circle_id == circle.id).order_by(TagConcept.id)
        )
    )


def managed_circle(viewer, slug: str) -> Optional[Circle]:
    """The circle named ``slug``, if ``viewer`` may manage its tags; None otherwise, as for
    no circle at all (the page and the API answer both alike: not found)."""
    circle = db.session.scalar(select(Circle).where(Circle.slug == slug))
    return circle if circle is not None and access.may_manage_tags(viewer, circle) else None


def _current_tags():
    """``select(Item.id)`` joined to the tags of each piece's current version."""
    return select(Item.id).join(RevisionTag, RevisionTag.revision_id == Item.current_revision_id)


def tag_counts(viewer, circle: Circle) -> dict[str, int]:
    """Each tag of the circle's pieces ``viewer`` may see, with how many of those pieces
    carry it now (their current version). A tag only hidden pieces carry is not there."""
    query = (
        access.select_visible(viewer)
        .where(Item.circle_id == circle.id)
        .join(RevisionTag, RevisionTag.revision_id == Item.current_revision_id)
        .with_only_columns(RevisionTag.tag, func.count(Item.id.distinct()))
        .group_by(RevisionTag.tag)
        .order_by(RevisionTag.tag)
    )
    return {tag: count for tag, count in db.session.execute(query)}


def concept_count(viewer, concept: TagConcept) -> int:
    """How many of the circle's pieces ``viewer`` may see carry the concept (each once)."""
    query = (
        access.select_visible(viewer)
        .where(Item.id.in_(_carrying(concept)))
        .with_only_columns(func.count(Item.id.distinct()))
    )
    return db.session.scalar(query) or 0


def _carrying(concept: TagConcept):
    """``select(Item.id)`` of the pieces of the concept's circle carrying one of its words."""
    return _current_tags().where(
        Item.circle_id == concept.circle_id, RevisionTag.tag.in_(words_of(concept))
    )


def carrying(tag: str):
    """``select(Item.id)``: the pieces carrying ``tag`` now, or, in a circle where it is a
    word of a concept, any word of that concept (a tag page)."""
    wanted = [RevisionTag.tag == tag] + [
        and_(Item.circle_id == concept.circle_id, RevisionTag.tag.in_(words_of(concept)))
        for concept in concepts_with([tag]).get(tag, [])
    ]
    return _current_tags().where(or_(*wanted))


def offered(viewer, circle: Circle, locale: str) -> list[str]:
    """What a form offers while tagging a piece of ``circle``: each concept's label in the
    person's language (a tag of that label carries the concept), then the tags of the
    circle's pieces they may see."""
    labels = [concept.label(locale).lower() for concept in concepts_of(circle)]
    tags = sorted(tag_counts(viewer, circle))
    return list(dict.fromkeys(label for label in labels + tags if label))[:OFFERED]

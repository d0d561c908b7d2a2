"""A circle's tag vocabulary over the API, for those who may manage it (its facilitators
and admins): its tags with how many pieces the caller may see carry each, its concepts, and
joining, renaming and splitting them (``archive.operations.tags``)."""

from __future__ import annotations

from flask import jsonify, url_for

from archive import vocabulary
from archive.api import ApiError, bp, request_body, token_required, viewer
from archive.models import CONCEPT_LOCALES, Circle, TagConcept
from archive.operations import tags as ops


def _circle(slug: str) -> Circle:
    """The circle, if the caller may manage its tags: otherwise 404, as for no circle."""
    circle = vocabulary.managed_circle(viewer(), slug)
    if circle is None:
        raise ApiError(404, "No such circle.")
    return circle


def _labels(labels: dict) -> dict[str, str]:
    """The names as the operation takes them (the body was checked against the document)."""
    return {locale: labels.get(locale, "") for locale in CONCEPT_LOCALES}


def _concept(concept: TagConcept, counts: dict[str, int]) -> dict:
    return {
        "id": concept.id,
        "labels": concept.labels(),
        "tags": [tag for tag in concept.tags if tag in counts],
        "count": vocabulary.concept_count(viewer(), concept),
    }


def _vocabulary(circle: Circle) -> dict:
    counts = vocabulary.tag_counts(viewer(), circle)
    return {
        "circle": circle.slug,
        "tags": [{"tag": tag, "count": count} for tag, count in counts.items()],
        "concepts": [_concept(c, counts) for c in vocabulary.concepts_of(circle)],
    }


@bp.get("/circles/<slug>/tags")
@token_required
def circle_tags(slug: str):
    return jsonify(_vocabulary(_circle(slug)))


@bp.post("/circles/<slug>/concepts")
@token_required
def join_tags(slug: str):
    circle = _circle(slug)
    data = request_body("NewConcept")
    concept = ops.join(viewer(), circle, data["tags"], _labels(data["labels"]))
    counts = vocabulary.tag_counts(viewer(), circle)
    location = url_for("api.circle_tags", slug=slug, _external=True)
    return jsonify(_concept(concept, counts)), 201, {"Location": location}


@bp.post("/circles/<slug>/concepts/<int:concept_id>/labels")
@token_required
def relabel_concept(slug: str, concept_id: int):
    circle = _circle(slug)
    concept = ops.relabel(viewer(), circle, concept_id, _labels(request_body("ConceptLabels")))
    return jsonify(_concept(concept, vocabulary.tag_counts(viewer(), circle)))


@bp.post("/circles/<slug>/concepts/<int:concept_id>/split")
@token_required
def split_concept(slug: str, concept_id: int):
    circle = _circle(slug)
    ops.split(viewer(), circle, concept_id)
    return jsonify(_vocabulary(circle))

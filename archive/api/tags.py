"""A circle's tag vocabulary over the API, for those who may manage it (its facilitators
and admins): its tags with how many pieces the caller may see carry each, its concepts, and
joining, renaming and splitting them (``archive.operations.tags``)."""

from __future__ import annotations

from flask import jsonify, request, url_for
from sqlalchemy import select

from archive import access, vocabulary
from archive.api import ApiError, bp, token_required, viewer
from archive.api.items import _list
from archive.db import db
from archive.models import CONCEPT_LOCALES, Circle, TagConcept
from archive.operations import tags as ops


def _circle(slug: str) -> Circle:
    """The circle, if the caller may manage its tags: otherwise 404, as for no circle."""
    circle = db.session.scalar(select(Circle).where(Circle.slug == slug))
    if circle is None or not access.may_manage_tags(viewer(), circle):
        raise ApiError(404, "No such circle.")
    return circle


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "Send a JSON object (Content-Type: application/json).")
    return data


def _labels(data: dict) -> dict[str, str]:
    labels = data.get("labels", {})
    if not isinstance(labels, dict) or not all(
        isinstance(labels.get(locale, ""), str) for locale in CONCEPT_LOCALES
    ):
        raise ApiError(422, "'labels' must be an object of strings: en, hi, mr.", "labels")
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
    data = _body()
    concept = ops.join(viewer(), circle, _list(data, "tags"), _labels(data))
    counts = vocabulary.tag_counts(viewer(), circle)
    location = url_for("api.circle_tags", slug=slug, _external=True)
    return jsonify(_concept(concept, counts)), 201, {"Location": location}


@bp.post("/circles/<slug>/concepts/<int:concept_id>/labels")
@token_required
def relabel_concept(slug: str, concept_id: int):
    circle = _circle(slug)
    concept = ops.relabel(viewer(), circle, concept_id, _labels({"labels": _body()}))
    return jsonify(_concept(concept, vocabulary.tag_counts(viewer(), circle)))


@bp.post("/circles/<slug>/concepts/<int:concept_id>/split")
@token_required
def split_concept(slug: str, concept_id: int):
    circle = _circle(slug)
    ops.split(viewer(), circle, concept_id)
    return jsonify(_vocabulary(circle))

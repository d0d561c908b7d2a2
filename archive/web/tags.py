"""A circle's tags, for its facilitators: how many pieces they may see carry each, the
concepts joining tags that mean the same, and the forms to join, rename and split them."""

from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from archive import access, vocabulary
from archive.db import db
from archive.models import Circle, CircleEvent
from archive.operations import Refused
from archive.operations import tags as ops
from archive.web import mark_problems
from archive.web.forms import ConceptLabels, JoinTagsForm, PlainForm, options

bp = Blueprint("tags", __name__, url_prefix="/circles")
#: how many changes to its tags the page lists
SHOWN_CHANGES = 20


def _circle(slug: str) -> Circle:
    """The circle, if the viewer may manage its tags; otherwise 404, as for no circle."""
    circle = vocabulary.managed_circle(current_user, slug)
    if circle is None:
        abort(404)
    return circle


@bp.get("/<slug>/tags")
@login_required
def index(slug: str):
    circle = _circle(slug)
    return render_template("tags/index.html", **_context(circle))


@bp.post("/<slug>/tags/join")
@login_required
def join(slug: str):
    circle = _circle(slug)
    context = _context(circle)
    form = context["join_form"]
    if not form.validate_on_submit():
        return render_template("tags/index.html", **context), 422
    try:
        ops.join(current_user, circle, form.tags.data or [], form.labels())
    except Refused as refused:
        mark_problems(form, refused.problems)
        return render_template("tags/index.html", **context), refused.status
    flash(_("The tags are joined."), "info")
    return redirect(url_for("tags.index", slug=slug), 303)


@bp.post("/<slug>/tags/<int:concept_id>/names")
@login_required
def rename(slug: str, concept_id: int):
    circle = _circle(slug)
    context = _context(circle, renamed=concept_id)
    form = context["label_forms"].get(concept_id)
    if form is None:
        abort(404)
    if not form.validate_on_submit():
        return render_template("tags/index.html", **context), 422
    try:
        ops.relabel(current_user, circle, concept_id, form.labels())
    except Refused as refused:
        if refused.status == 404:
            abort(404)
        mark_problems(form, refused.problems)
        return render_template("tags/index.html", **context), refused.status
    flash(_("The names are saved."), "info")
    return redirect(url_for("tags.index", slug=slug), 303)


@bp.post("/<slug>/tags/<int:concept_id>/split")
@login_required
def split(slug: str, concept_id: int):
    circle = _circle(slug)
    if not PlainForm().validate_on_submit():
        abort(400)
    try:
        ops.split(current_user, circle, concept_id)
    except Refused as refused:
        abort(refused.status)
    flash(_("The tags are each their own again."), "info")
    return redirect(url_for("tags.index", slug=slug), 303)


def _context(circle: Circle, renamed: Optional[int] = None) -> dict:
    """What the page shows; ``renamed``: the concept whose names were sent (its form shows
    what was sent, the others their concept's names)."""
    counts = vocabulary.tag_counts(current_user, circle)
    concepts = vocabulary.concepts_of(circle)
    in_concept = {tag: concept for concept in concepts for tag in concept.tags}
    join_form = JoinTagsForm(prefix="join", **({"formdata": None} if renamed else {}))
    join_form.tags.choices = options(*((tag, tag) for tag in counts))
    label_forms = {}
    for concept in concepts:
        if concept.id == renamed:
            form = ConceptLabels(prefix=f"c{concept.id}")
        else:
            form = ConceptLabels(prefix=f"c{concept.id}", formdata=None)
            form.label_en.data, form.label_hi.data, form.label_mr.data = concept.labels().values()
        label_forms[concept.id] = form
    return {
        "circle": circle,
        "counts": counts,
        "concepts": [
            (concept, [t for t in concept.tags if t in counts], _count(concept))
            for concept in concepts
        ],
        "in_concept": in_concept,
        "join_form": join_form,
        "label_forms": label_forms,
        "changes": tag_changes(circle),
    }


def _count(concept) -> int:
    return vocabulary.concept_count(current_user, concept)


def tag_changes(circle: Circle) -> list[CircleEvent]:
    """The newest changes to the circle's tags, for those who may manage them."""
    return list(
        db.session.scalars(
            select(CircleEvent)
            .where(
                CircleEvent.circle_id == circle.id, access.tag_changes_shown(current_user, circle)
            )
            .order_by(CircleEvent.id.desc())
            .limit(SHOWN_CHANGES)
            .options(selectinload(CircleEvent.actor))
        )
    )

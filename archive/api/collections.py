"""``/api/v1/collections``: read what the viewer may open; curate with a facilitator's token.

Every write goes through ``archive.operations.collections``, so the API refuses exactly what
the pages refuse (and a refusal becomes a JSON error through the blueprint's handler)."""

from __future__ import annotations

from flask import jsonify, url_for
from sqlalchemy import select

from archive import access
from archive.api import ApiError, bp, request_body, token_required, viewer
from archive.api.items import _text as text
from archive.db import db
from archive.models import Circle, Collection, Entry, Item
from archive.operations import collections as ops

STEPS = {"up": -1, "down": 1}


def _collection(slug: str) -> Collection:
    collection = db.session.scalar(select(Collection).where(Collection.slug == slug))
    if collection is None or not access.may_view_collection(viewer(), collection):
        raise ApiError(404, "No such collection.")
    return collection


def _curated(slug: str) -> Collection:
    """A collection the viewer may change; one they may only read is a 403, as in items."""
    collection = _collection(slug)
    if not access.may_curate(viewer(), collection):
        raise ApiError(403, "Only a facilitator of the circle can change this collection.")
    return collection


def _url(collection: Collection) -> str:
    return url_for("collections.show", slug=collection.slug, _external=True)


def summary(collection: Collection) -> dict:
    return {
        "slug": collection.slug,
        "title": collection.title,
        "state": collection.state,
        "circle": collection.circle.slug,
        "url": _url(collection),
        "updated_at": collection.updated_at.isoformat() + "Z",
    }


def _entry(entry: Entry) -> dict:
    item, rev = entry.item, entry.item.current
    assert rev is not None  # an entry's piece is not taken back: its entries go with it
    return {
        "id": entry.id,
        "note": entry.note,
        "item": {
            "id": item.public_id,
            "title": rev.title,
            "byline": access.byline(item),
            "kind": item.kind,
            "language": rev.language,
            "url": url_for("items.show", public_id=item.public_id, _external=True),
        },
    }


def represent(collection: Collection) -> dict:
    """The collection as this viewer sees it: only entries the access rule shows them."""
    intro = collection.intro
    body = {
        **summary(collection),
        "read_url": url_for("collections.read", slug=collection.slug, _external=True),
        "intro": {
            "markdown": intro.body if intro else "",
            "html": intro.html if intro else "",
            "version": intro.number if intro else 0,
        },
        "entries": [
            _entry(entry)
            for entry in access.shown_entries(
                viewer(), collection, public_only=not viewer().is_authenticated
            )
        ],
    }
    if access.may_curate(viewer(), collection):
        body["pieces_left"] = collection.removed_unseen
    return body


@bp.get("/collections")
def list_collections():
    found = db.session.scalars(
        access.visible_collections(viewer())
        .order_by(Collection.updated_at.desc(), Collection.id.desc())
        .limit(200)
    )
    return jsonify({"collections": [summary(collection) for collection in found]})


@bp.get("/collections/<slug>")
def get_collection(slug: str):
    return jsonify(represent(_collection(slug)))


def _circle(data: dict) -> Circle:
    circle = db.session.scalar(select(Circle).where(Circle.slug == text(data, "circle")))
    if circle is None or not access.may_view_circle(viewer(), circle):
        raise ApiError(403, "'circle' must be the slug of a circle you belong to.", "circle")
    return circle


@bp.post("/collections")
@token_required
def create_collection():
    data = request_body("NewCollection")
    circle = _circle(data)
    collection = ops.create(
        viewer(),
        circle,
        text(data, "slug"),
        text(data, "title"),
        text(data, "intro"),
        text(data, "state", "draft"),
    )
    return jsonify(represent(collection)), 201, {"Location": _url(collection)}


@bp.patch("/collections/<slug>")
@token_required
def update_collection(slug: str):
    collection = _curated(slug)
    data = request_body("CollectionEdit")
    current = collection.intro.body if collection.intro else ""
    ops.update(
        viewer(), collection, text(data, "title", collection.title), text(data, "intro", current)
    )
    return jsonify(represent(collection))


@bp.post("/collections/<slug>/entries")
@token_required
def add_entry(slug: str):
    collection = _curated(slug)
    data = request_body("NewEntry")
    item = db.session.scalar(select(Item).where(Item.public_id == text(data, "item")))
    # unknown, hidden from the curator or taken back: one answer (422, field "item")
    entry = ops.add_entry(viewer(), collection, item, text(data, "note"))
    return jsonify(_entry(entry)), 201, {"Location": _url(collection)}


@bp.post("/collections/<slug>/entries/<int:entry_id>/move")
@token_required
def move_entry(slug: str, entry_id: int):
    collection = _curated(slug)
    direction = text(request_body("Move"), "direction")
    ops.move_entry(viewer(), collection, entry_id, STEPS[direction])
    db.session.expire(collection, ["entries"])  # reload them in their new order
    return jsonify(represent(collection))


@bp.delete("/collections/<slug>/entries/<int:entry_id>")
@token_required
def remove_entry(slug: str, entry_id: int):
    collection = _curated(slug)
    ops.remove_entry(viewer(), collection, entry_id)
    return jsonify(represent(collection))


@bp.post("/collections/<slug>/state")
@token_required
def set_state(slug: str):
    collection = _curated(slug)
    ops.set_state(viewer(), collection, text(request_body("CollectionState"), "state"))
    return jsonify(represent(collection))


@bp.errorhandler(ops.NotPublic)
def _not_public(refused: ops.NotPublic):
    """Which pieces keep a collection from being public, as data: those the curator may see
    by id, title and audience now; the others only counted. A rule as things stand: 409."""
    return jsonify(
        {
            "error": str(refused.message),
            "status": 409,
            "field": "state",
            "not_public": [
                {
                    "id": item.public_id,
                    "title": item.current.title if item.current else "",
                    "audience": audience,
                }
                for item, audience in refused.pieces
            ],
            "not_public_hidden": refused.hidden,
        }
    ), 409

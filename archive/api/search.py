"""``GET /api/v1/search``: the same search, filter and re-check as the search page."""

from __future__ import annotations

import re

from flask import jsonify, request, url_for

from archive import access
from archive.api import bp, viewer
from archive.api.contract import checked
from archive.api.openapi import SCHEMAS, SEARCH_PARAMETERS
from archive.numbers import page_number
from archive.search.query import search


def _query() -> dict:
    """The query string checked against the document's parameters: ``q`` given, ``page`` a
    whole number from 1 up to the last page that could exist."""
    args = request.args
    asked: dict = {"q": args["q"]} if "q" in args else {}
    if "page" in args:
        page = args["page"].strip()
        asked["page"] = int(page) if re.fullmatch(r"[+-]?\d{1,30}", page) else page
    schema = {
        "type": "object",
        "required": [p["name"] for p in SEARCH_PARAMETERS if p.get("required")],
        "properties": {p["name"]: p["schema"] for p in SEARCH_PARAMETERS},
    }
    return checked(asked, schema, SCHEMAS)


@bp.get("/search")
def api_search():
    args = request.args
    asked = _query()
    found = search(
        viewer(),
        asked["q"][:200],
        page=page_number(),
        order="newest" if args.get("order") == "newest" else "relevance",
        kind=args.get("kind"),
        language=args.get("language"),
        circle=args.get("circle"),
        tag=args.get("tag"),
    )
    return jsonify(
        {
            "query": found.query,
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
            "results": [_result(hit) for hit in found.hits],
            "facets": {
                name: [{"value": v, "count": n} for v, n in values]
                for name, values in found.facets.items()
            },
        }
    )


def _result(hit) -> dict:
    rev = hit.item.current
    assert rev is not None  # only pieces that may be seen are found
    return {
        "id": hit.item.public_id,
        "title": rev.title,
        "kind": hit.item.kind,
        "language": rev.language,
        "snippet": str(hit.snippet),
        "content_notes": access.noted(hit.item),
        "url": url_for("items.show", public_id=hit.item.public_id, _external=True),
    }

"""The search page: one box, facets to narrow, pages of results the viewer may see."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from archive import vocabulary
from archive.numbers import page_number
from archive.search.query import circle_names, search
from archive.text import one_line

bp = Blueprint("search", __name__)
NARROW = ("kind", "language", "circle", "tag")


def query_args() -> dict:
    args = request.args
    return {
        "text": args.get("q", "")[:200],
        "page": page_number(),
        "order": "newest" if args.get("order") == "newest" else "relevance",
        **{name: args.get(name) or None for name in NARROW},
    }


@bp.get("/search")
def results():
    args = query_args()
    found = search(current_user, **args) if args["text"].strip() else None
    names = circle_names([v for v, _n in found.facets.get("circle", [])]) if found else {}
    return render_template(
        "search/results.html",
        found=found,
        args=args,
        circle_names=names,
        tag_names=_tag_names(found, args["tag"]),
        link=_link(args),
    )


#: what url_for leaves unquoted in a query string (Werkzeug's own choice), so the links
#: built here read exactly as url_for would have built them
QUERY_SAFE = "!$'()*,/:;?@"


def _tag_names(found, chosen) -> dict[str, str]:
    """Each tag facet value (and the tag narrowed to) by the name of its concept in the
    reader's circles, in the reader's language, where it has one."""
    locale = str(get_locale() or "en")
    held = dict(found.tag_concepts) if found else {}
    if chosen:
        tag = one_line(chosen).lower()
        held[chosen] = vocabulary.concepts_with([tag]).get(tag, [])
    names = {value: vocabulary.named(current_user, held[value], locale) for value in held}
    return {value: name for value, name in names.items() if name}


def _link(args: dict):
    """URL of this search with some arguments changed (None removes one). The page's
    address is built once; each facet, pager and suggestion link only adds its query."""
    base = url_for("search.results")
    kept = {
        "q": args["text"],
        "order": args["order"] if args["order"] != "relevance" else None,
        **{n: args[n] for n in NARROW},
    }

    def build(**changes):
        merged = {**kept, **changes}
        query = urlencode([(k, v) for k, v in merged.items() if v], safe=QUERY_SAFE)
        return f"{base}?{query}" if query else base

    return build

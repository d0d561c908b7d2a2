"""Searching as a viewer: the query is filtered by the access rule inside the index, every
hit is checked again with ``archive.access`` against the database, and what is shown comes
from the current revision of items the viewer may see."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Optional

from markupsafe import Markup, escape
from sqlalchemy import select
from whoosh import highlight
from whoosh.qparser import (FieldsPlugin, MultifieldParser, OrGroup, PlusMinusPlugin,
                            WildcardPlugin)
from whoosh.query import And, NullQuery, NumericRange, Or, Query, Term
from whoosh.sorting import FieldFacet

from archive import access
from archive.db import db
from archive.models import Circle, Contributor, Item, Membership
from archive.search.analyzer import roman_analyzer, text_analyzer
from archive.search.index import searcher
from archive.search.schema import day_number

FIELDS = ["title", "body", "tags", "alt", "byline", "roman"]
FACETS = ("kind", "language", "circle", "tags")
PER_PAGE = 10
MAX_QUERY = 200


@dataclass
class Hit:
    item: Item
    snippet: Markup


@dataclass
class Results:
    query: str
    total: int = 0
    page: int = 1
    pages: int = 0
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    understood: bool = True


def _parser(schema):
    parser = MultifieldParser(FIELDS, schema)
    for plugin in (FieldsPlugin, WildcardPlugin, PlusMinusPlugin):
        parser.remove_plugin_class(plugin)
    return parser


def parse(text: str, schema) -> Optional[Query]:
    """The user's words as a query; never an error: odd syntax falls back to plain words."""
    text = " ".join(text.split())[:MAX_QUERY]
    if not text:
        return None
    try:
        query = _parser(schema).parse(text)
    except Exception:  # noqa: BLE001 — any parser trouble becomes a plain-words search
        words = re.findall(r"[\w\u0900-\u0963\u0971-\u097F]+", text)
        query = MultifieldParser(FIELDS, schema, group=OrGroup).parse(" ".join(words))
    return None if query is NullQuery else query


def permitted(viewer) -> Query:
    """The access rule (design.md) as an index filter, so counts come from the permitted
    set; ``access.may_view_item`` re-checks every hit shown."""
    live = NumericRange("review", day_number(access.today()), None)
    allowed: list[Query] = [And([Term("audience", "public"), live])]
    if getattr(viewer, "is_authenticated", False):
        memberships = db.session.execute(select(Membership.circle_id, Membership.role)
                                         .where(Membership.account_id == viewer.id)).all()
        circles = [Term("circle", str(c)) for c, _role in memberships]
        stewarded = [Term("circle", str(c)) for c, role in memberships if role == "facilitator"]
        own = db.session.scalar(select(Contributor.id).where(
            Contributor.account_id == viewer.id))
        if own is not None:
            allowed.append(Term("contributor", str(own)))
        if circles:
            allowed.append(And([Or(circles), Or([Term("audience", "circle"),
                                                 Term("audience", "public")]), live]))
        if stewarded:
            allowed.append(And([Or(stewarded), Term("steward", "1")]))
    return Or(allowed)


def narrowing(kind=None, language=None, circle=None, tag=None) -> list[Query]:
    wanted = {"kind": kind, "language": language, "circle": circle, "tags": tag}
    return [Term(name, str(value).lower() if name == "tags" else str(value))
            for name, value in wanted.items() if value]


def search(viewer, text: str, page: int = 1, order: str = "relevance",
           per_page: int = PER_PAGE, **narrow) -> Results:
    s = searcher()
    results = Results(query=text, page=max(page, 1))
    query = parse(text, s.schema)
    if query is None:
        results.understood = bool(text.strip()) is False
        return results
    filters = [permitted(viewer)] + narrowing(**narrow)
    found = s.search_page(query, results.page, pagelen=per_page,
                          filter=And(filters) if len(filters) > 1 else filters[0],
                          groupedby=[FieldFacet(name, allow_overlap=name == "tags")
                                     for name in FACETS],
                          sortedby="updated" if order == "newest" else None,
                          reverse=order == "newest", terms=True)
    results.total = found.total
    results.pages = math.ceil(found.total / per_page) if found.total else 0
    results.facets = _facets(found.results)
    items = _items([hit["id"] for hit in found])
    for hit in found:
        item = items.get(hit["id"])
        if item is not None and access.may_view_item(viewer, item):
            results.hits.append(Hit(item=item, snippet=snippet(item, query)))
    return results


def _items(public_ids: list[str]) -> dict[str, Item]:
    if not public_ids:
        return {}
    return {item.public_id: item for item in db.session.scalars(
        select(Item).where(Item.public_id.in_(public_ids)))}


def _facets(found) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        groups = found.groups(name)
        counts = sorted(((value, len(docs) if isinstance(docs, list) else docs)
                         for value, docs in groups.items() if value not in (None, "")),
                        key=lambda pair: (-pair[1], str(pair[0])))
        out[name] = [(v.decode() if isinstance(v, bytes) else str(v), n)
                     for v, n in counts[:20]]
    return out


def circle_names(ids: list[str]) -> dict[str, str]:
    numbers = [int(i) for i in ids if i.isdigit()]
    if not numbers:
        return {}
    return {str(c.id): c.name for c in db.session.scalars(
        select(Circle).where(Circle.id.in_(numbers)))}


# --- snippets: from the database's current revision, escaped ------------------------------

class _Marked(highlight.Formatter):
    def format_token(self, text, token, replace=False):
        return Markup("<mark>{}</mark>").format(highlight.get_text(text, token, replace))

    def format_fragment(self, fragment, replace=False):
        output, index = [], fragment.startchar
        text = fragment.text
        for token in fragment.matches:
            if token.startchar < index:
                continue
            output.append(escape(text[index:token.startchar]))
            output.append(self.format_token(text, token, replace))
            index = token.endchar
        output.append(escape(text[index:fragment.endchar]))
        return Markup("").join(output)

    def format(self, fragments, replace=False):
        return Markup(" … ").join(self.format_fragment(f, replace) for f in fragments)


def snippet(item: Item, query: Query) -> Markup:
    rev = item.current
    text = " ".join(part for part in (rev.body, rev.alt_text) if part)
    text = re.sub(r"[*_#>`]+", "", text)
    for fields, analyzer in ((("body", "alt", "title"), text_analyzer()),
                             (("roman",), roman_analyzer())):
        terms = {word for name, word in query.iter_all_terms() if name in fields}
        if not terms:
            continue
        words = {w.decode() if isinstance(w, bytes) else w for w in terms}
        marked = highlight.highlight(text, frozenset(words), analyzer,
                                     highlight.ContextFragmenter(maxchars=160, surround=40),
                                     _Marked(), top=2)
        if marked:
            return Markup(marked)
    return escape(text[:160] + ("…" if len(text) > 160 else ""))

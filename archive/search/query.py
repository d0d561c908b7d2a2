"""Searching as a viewer: the query is filtered by the access rule inside the index, every
hit is checked again with ``archive.access`` against the database, and what is shown comes
from the current revision of items the viewer may see."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import pairwise
from typing import Optional

import numpy as np
from markupsafe import Markup, escape
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.qparser import (
    EveryPlugin,
    FieldsPlugin,
    MultifieldParser,
    OrGroup,
    PlusMinusPlugin,
    RangePlugin,
    SingleQuotePlugin,
    WildcardPlugin,
)
from whoosh.query import And, NullQuery, Or, Phrase, Query, Term
from whoosh.reading import TermNotFound

from archive import access, vocabulary
from archive.db import db
from archive.models import Circle, Contributor, Item, TagConcept
from archive.search import concepts, docsets, ranking, suggest
from archive.search.analyzer import (
    WORD,
    normal_word,
    pair_token,
    roman_first_letters,
    word_roman_forms,
)
from archive.search.index import searching
from archive.search.loanwords import devanagari_for, english_for
from archive.search.stemming import stem_keys
from archive.search.sync import catch_up_or_stale

FIELDS = ["title", "content", "roman", "stem"]
FACETS = ("kind", "language", "circle", "tags")
PER_PAGE = 10
#: a search finding fewer pieces than this is widened to words one letter away and to the
#: words its words begin (`suggest.widen`); those found so are ranked after the others
WIDEN_BELOW = PER_PAGE
#: a loanword's other spelling weighs this much of the word typed
LOANWORD_BOOST = 0.8
MAX_QUERY = 200
SNIPPET_SOURCE = 4000


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
    #: other queries that find something the viewer may see, when this one finds nothing
    suggestions: list[str] = field(default_factory=list)
    #: the concepts a tag facet's value stands for, for its name in the reader's language
    tag_concepts: dict[str, list[TagConcept]] = field(default_factory=dict)


#: query syntax people are not offered: field names would reach fields the access rule
#: filters, and wildcards, ranges, "every document", +/- and single quotes are search-engine
#: habits; their characters are read as plain words (and each plugin costs every query its
#: pass over the text). A boost ("river^2") is kept: it still finds the word.
UNOFFERED = (
    FieldsPlugin,
    WildcardPlugin,
    PlusMinusPlugin,
    RangePlugin,
    EveryPlugin,
    SingleQuotePlugin,
)
_parsers: dict[int, tuple[object, MultifieldParser]] = {}


def _parser(schema) -> MultifieldParser:
    """The parser for ``schema``, made once per index generation (it keeps no state
    between queries)."""
    kept = _parsers.get(id(schema))
    if kept is not None and kept[0] is schema:
        return kept[1]
    parser = MultifieldParser(FIELDS, schema)
    for plugin in UNOFFERED:
        parser.remove_plugin_class(plugin)
    _parsers.clear()
    _parsers[id(schema)] = (schema, parser)
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
    if query is NullQuery:
        return None
    query = query.accept(_with_loanwords)
    if any(isinstance(leaf, Phrase) for leaf in query.leaves()):
        common = _common_words(schema)
        query = query.accept(lambda q: _phrase(q, common) if isinstance(q, Phrase) else q)
        query = query.normalize()
    return None if query is NullQuery else query


def _with_loanwords(q: Query) -> Query:
    """A word's group (its forms in each field) with the other spellings of a loanword:
    the Devanagari spellings of an English word (and their inflected forms, by their stem
    keys); the English word and the other Devanagari spellings of a Devanagari one (see
    `loanwords`)."""
    if type(q) is not Or:
        return q
    word = next(
        (sub.text for sub in q.subqueries if type(sub) is Term and sub.fieldname == "content"), None
    )
    if word is None:
        return q
    extra: list[Query] = []
    if word.isascii():
        for spelling in devanagari_for(word):
            extra.append(Term("content", spelling, boost=LOANWORD_BOOST))
            extra += [Term("stem", key, boost=LOANWORD_BOOST) for key in stem_keys(spelling)]
    else:
        for english in english_for(word):
            extra.append(Term("content", english, boost=LOANWORD_BOOST))
            extra += [
                Term("stem", key, boost=LOANWORD_BOOST)
                for spelling in devanagari_for(english)
                for key in stem_keys(spelling)
            ]
    known = {(sub.fieldname, sub.text) for sub in q.subqueries if type(sub) is Term}
    extra = [term for term in dict.fromkeys(extra) if (term.fieldname, term.text) not in known]
    return Or(list(q.subqueries) + extra) if extra else q


def _common_words(schema) -> frozenset:
    return schema["pairs"].analyzer.common if "pairs" in schema else frozenset()


def _phrase(phrase: Phrase, common: frozenset) -> Query:
    """A phrase is matched in the full text only (title and shadow copies add cost, not
    hits); one made only of common words is matched through their pair terms."""
    if phrase.fieldname != "content":
        return NullQuery
    words = phrase.words
    if phrase.slop != 1 or len(words) < 2 or not all(word in common for word in words):
        return phrase
    if len(words) == 2:
        return Term("pairs", pair_token(*words), boost=phrase.boost)
    return CommonPhrase(phrase.fieldname, list(words), boost=phrase.boost)


class CommonPhrase(Phrase):
    """A phrase of three or more common words: the entries holding all its word pairs are
    found through the pair terms, and only those have their word positions checked."""

    def matcher(self, searcher, context=None):
        words = self.words
        pairs = And([Term("pairs", pair_token(a, b)) for a, b in pairwise(words)])
        candidates = list(pairs.matcher(searcher, context).all_ids())
        reader = searcher.reader()
        try:
            postings = [reader.postings(self.fieldname, word) for word in words]
        except TermNotFound:
            return NullMatcher()
        found = [doc for doc in candidates if _in_order(postings, doc)]
        return ListMatcher(found, all_weights=self.boost) if found else NullMatcher()


def _in_order(postings, doc: int) -> bool:
    """Whether the words of ``postings`` (a posting matcher per word, moved forward only)
    stand next to each other, in order, somewhere in entry ``doc``."""
    places = []
    for matcher in postings:
        if matcher.is_active() and matcher.id() < doc:
            matcher.skip_to(doc)
        if not matcher.is_active() or matcher.id() != doc:
            return False
        places.append(set(matcher.value_as("positions")))
    first, rest = places[0], places[1:]
    return any(all(start + step in later for step, later in enumerate(rest, 1)) for start in first)


def narrowing(kind=None, language=None, circle=None, tag=None) -> list[Query]:
    """The terms a search is narrowed by; a tag with the rest of its concept
    (`concepts.tag_query`)."""
    wanted = {"kind": kind, "language": language, "circle": circle}
    found: list[Query] = [Term(name, str(value)) for name, value in wanted.items() if value]
    return found + [concepts.tag_query(str(tag))] if tag else found


def search(
    viewer, text: str, page: int = 1, order: str = "relevance", per_page: int = PER_PAGE, **narrow
) -> Results:
    """Matches, narrowed to the permitted set inside the index (sets kept per segment), with
    facet counts from that set; the page shown is re-checked against the database. Entries
    whose item changed since the index last caught up are left out until it has."""
    stale = catch_up_or_stale()
    with searching() as s:
        return _search(s, stale, viewer, text, page, order, per_page, narrow)


def _search(
    s, stale: frozenset[str], viewer, text: str, page: int, order: str, per_page: int, narrow: dict
) -> Results:
    results = Results(query=text, page=max(page, 1))
    words = parse(text, s.schema)
    if words is None:
        results.understood = not text.strip()
        return results
    finding, query = concepts.expanded(words, text, s.schema)
    viewable = _viewable(s, stale, viewer, narrow)
    allowed = docsets.docs(s, finding) & viewable
    wider, widened = _widened(s, words, allowed, viewable)
    found = allowed | widened if wider is not None else allowed
    results.total = int(np.count_nonzero(found))
    results.pages = math.ceil(results.total / per_page)
    if not results.total:
        results.suggestions = suggest.suggestions(
            s, text, words, viewable, lambda other: _finds(s, other, viewable)
        )
        return results
    counted = docsets.counts(s, FACETS, found)
    counted["tags"], results.tag_concepts = _tag_facets(s, counted["tags"], found)
    results.facets = {name: values[:20] for name, values in counted.items()}
    first = (results.page - 1) * per_page
    upto = first + per_page
    if order == "newest" or wider is None:
        docnums = _ranked(s, query, found, order, upto)
    else:  # what the words found, then what only the widened words found
        docnums = _ranked(s, query, allowed, order, upto)
        if len(docnums) < upto and widened is not None:
            docnums += _ranked(s, wider, widened, order, upto - len(docnums))
    docnums = docnums[first:upto]
    public_ids = [s.stored_fields(docnum)["id"] for docnum in docnums]
    items = _items(public_ids)
    known: dict[str, bool] = {}
    shown = query if wider is None else wider
    for public_id in public_ids:
        item = items.get(public_id)
        if item is not None and access.may_view_item(viewer, item):
            results.hits.append(Hit(item=item, snippet=snippet(item, shown, known)))
    return results


def _tag_facets(
    s, counted: list[tuple[str, int]], found: np.ndarray
) -> tuple[list[tuple[str, int]], dict[str, list[TagConcept]]]:
    """The tag facet with the tags of one concept as one value: the first of them found,
    counting each piece the concept finds once (what narrowing to it finds), most first;
    and the concepts of each such value, for its name."""
    held = vocabulary.concepts_with(value for value, _count in counted)
    values: list[tuple[str, int]] = []
    named: dict[str, list[TagConcept]] = {}
    seen: set[tuple[int, ...]] = set()
    for value, count in counted:
        joined = held.get(value)
        if not joined:
            values.append((value, count))
            continue
        key = tuple(concept.id for concept in joined)
        if key in seen:
            continue
        seen.add(key)
        values.append(
            (value, int(np.count_nonzero(found & docsets.docs(s, concepts.tag_query(value)))))
        )
        named[value] = joined
    return sorted(values, key=lambda pair: (-pair[1], pair[0])), named


def _viewable(s, stale: frozenset[str], viewer, narrow: dict) -> np.ndarray:
    """The entries the viewer may see, narrowed, less those waiting for the index."""
    viewable = docsets.docs(s, access.index_filter(viewer))
    for term in narrowing(**narrow):
        viewable = viewable & docsets.docs(s, term)
    if stale:
        viewable = viewable & ~docsets.docs(
            s, Or([Term("id", public_id) for public_id in sorted(stale)])
        )
    return viewable


def _widened(
    s, query: Query, allowed: np.ndarray, viewable: np.ndarray
) -> tuple[Optional[Query], Optional[np.ndarray]]:
    """When the words found few pieces: the query widened (`suggest.widen`) and the
    viewable entries only the widened query finds."""
    if np.count_nonzero(allowed) >= WIDEN_BELOW:
        return None, None
    wider = suggest.widen(s, query, viewable)
    if wider is None:
        return None, None
    return wider, docsets.docs(s, wider) & viewable & ~allowed


def _finds(s, text: str, viewable: np.ndarray) -> bool:
    query = parse(text, s.schema)
    return query is not None and bool((docsets.docs(s, query) & viewable).any())


def _ranked(s, query: Query, allowed: np.ndarray, order: str, upto: int) -> list[int]:
    if not allowed.any():
        return []
    if order == "newest":
        docnums = np.flatnonzero(allowed)
        updated = docsets.column(s, "updated")[docnums]
        return docnums[np.lexsort((docnums, -updated))[:upto]].tolist()
    # the allowed set already holds exactly the phrase matches: rank them by their words
    # instead of checking every position a second time
    by_words = query.accept(
        lambda q: And([Term(q.fieldname, w) for w in q.words]) if type(q) is Phrase else q
    )
    return ranking.best(s, by_words, allowed, upto)


def _items(public_ids: list[str]) -> dict[str, Item]:
    if not public_ids:
        return {}
    return {
        item.public_id: item for item in db.session.scalars(_items_query(), {"ids": public_ids})
    }


@cache
def _items_query():
    """Built once (building it and its cache key took a third of its time): the account
    too, as a result's byline names it (one query, not one per result); not the circle:
    neither the access rule nor a result shows more of it than its number."""
    return (
        select(Item)
        .where(Item.public_id.in_(bindparam("ids", expanding=True)))
        .options(
            joinedload(Item.current),
            joinedload(Item.consent),
            joinedload(Item.contributor).joinedload(Contributor.account),
        )
    )


def circle_names(ids: list[str]) -> dict[str, str]:
    numbers = [int(i) for i in ids if i.isdigit()]
    if not numbers:
        return {}
    return {
        str(c.id): c.name for c in db.session.scalars(select(Circle).where(Circle.id.in_(numbers)))
    }


# --- snippets: from the database's current revision, escaped ------------------------------

SNIPPET_CHARS, SNIPPET_LEAD, SNIPPET_PARTS = 160, 40, 2
_WORDS = re.compile(WORD)
_MARKS = re.compile(r"[*_#`]+|^[ \t]*>+", flags=re.M)


def snippet(item: Item, query: Query, known: Optional[dict] = None) -> Markup:
    """Up to two passages of the current text around the first words the query matched,
    those words marked. Words are compared the way the index compares them (stemmed,
    NFC); only a text where none is found is searched again by romanized forms (a word
    typed in Latin letters found in Devanagari) and stem keys (an inflected form, a chat
    spelling, a Devanagari word found in romanized text). The text is read only as far as needed.
    ``known``: the query's words, and what was found of each word of a text for this query
    so far (the texts of a page of results share many words: each is compared once)."""
    rev = item.current
    assert rev is not None  # only pieces that may be seen are found, and those have words
    text = " ".join(part for part in (rev.body, rev.alt_text) if part)
    # Markdown marks go; ">" only as a quote mark at a line's start ("a > b", "<3" stay)
    # composed as the index composes words: a word is found by its first letters
    text = unicodedata.normalize("NFC", _MARKS.sub("", text)[:SNIPPET_SOURCE])
    known = {} if known is None else known
    if "query" not in known:
        known["query"] = _snippet_words(query)
    words, roman, stems = known["query"]
    passages = (
        _passages(text, words, known.setdefault("words", {}), _found, _candidates(words))
        if words
        else []
    )
    if not passages and (roman or stems):
        passages = _passages(
            text,
            (roman, stems),
            known.setdefault("loose", {}),
            _found_loosely,
            _loose_candidates(roman, stems),
        )
    if not passages:
        return escape(text[:SNIPPET_CHARS] + ("…" if len(text) > SNIPPET_CHARS else ""))
    out = []
    for begin, end, marks in passages:
        pieces: list[str] = []
        at = begin
        for start, stop in marks:  # every piece of the text escaped
            pieces += (escape(text[at:start]), "<mark>", escape(text[start:stop]), "</mark>")
            at = stop
        pieces.append(escape(text[at:end]))
        out.append("".join(pieces))
    return Markup(" … ".join(out))


def _passages(
    text: str, wanted: frozenset | tuple, known: dict[str, bool], found, candidates: re.Pattern
) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """(start, end, marked spans) of the first passages holding a word of ``wanted``.
    ``candidates`` finds the words of the text that may be one of them (all, or fewer);
    ``found`` decides."""

    def matches(token: str) -> bool:
        hit = known.get(token)
        if hit is None:
            hit = known[token] = found(token, wanted)
        return hit

    passages: list[tuple[int, int, list[tuple[int, int]]]] = []
    for match in candidates.finditer(text):
        if candidates is not _WORDS and not _starts_word(text, match.start()):
            continue
        if passages and match.end() <= passages[-1][1]:
            if matches(match.group()):
                passages[-1][2].append(match.span())
            continue
        if len(passages) == SNIPPET_PARTS:
            break
        if matches(match.group()):
            begin = _word_start(text, max(0, match.start() - SNIPPET_LEAD))
            passages.append((begin, _word_end(text, begin + SNIPPET_CHARS), [match.span()]))
    return passages


def _snippet_words(query: Query) -> tuple[frozenset, frozenset, frozenset]:
    found = [
        (name, word.decode() if isinstance(word, bytes) else word)
        for name, word in query.iter_all_terms()
    ]
    words = {word for name, word in found if name in ("content", "title")}
    words |= {word for name, pair in found if name == "pairs" for word in pair.split("+")}
    return (
        frozenset(words),
        frozenset(word for name, word in found if name == "roman"),
        frozenset(word for name, word in found if name == "stem"),
    )


_WORD_CHAR = WORD[: WORD.index("]") + 1]


@lru_cache(maxsize=64)
def _candidates(words: frozenset) -> re.Pattern:
    """The words of a text that `_found` may accept, found by the regex engine instead of
    one by one: those whose first letters (two of a Latin word, as `_found` checks; one
    otherwise) are the first letters of a wanted word, ignoring case. A match starts where
    no word letter comes before (see `_starts_word` for an apostrophe) and is as long as
    the word `_WORDS` finds there."""
    beginnings = sorted(
        {word[:2] if word.isascii() else word[:1] for word in words}, key=len, reverse=True
    )
    starts = "|".join(map(re.escape, beginnings))
    return re.compile(rf"(?<!{_WORD_CHAR})(?=(?i:{starts})){WORD}")


@lru_cache(maxsize=64)
def _roman_candidates(roman: frozenset) -> re.Pattern:
    """The words of a text that `_found_romanized` may accept: all but those whose first
    letter's romanized forms cannot start as any of ``roman`` does (`roman_first_letters`),
    left to the regex engine instead of romanized one by one."""
    letters = {word[0] for word in roman if word}
    unlike = sorted(
        char for char in _ROMAN_STARTS if not (roman_first_letters(char) or frozenset()) & letters
    )
    if not unlike:
        return _WORDS
    return re.compile(rf"(?<!{_WORD_CHAR})(?![{re.escape(''.join(unlike))}]){WORD}")


#: the first letters whose romanized forms are known (`roman_first_letters`)
_ROMAN_STARTS = [
    char
    for char in map(
        chr,
        [*range(0x30, 0x3A), *range(0x41, 0x5B), 0x5F, *range(0x61, 0x7B), *range(0x0900, 0x0980)],
    )
    if roman_first_letters(char) is not None
]


def _starts_word(text: str, at: int) -> bool:
    """Whether `_WORDS` finds a word starting at ``at``, a candidate's start: one after an
    apostrophe may be the end of the word before ("don't"), or a word ("rock'n'roll")."""
    if at == 0 or text[at - 1] not in "'’":
        return True
    begin = at - 1
    while begin > 0 and (text[begin - 1] in "'’" or _WORDS.match(text[begin - 1])):
        begin -= 1
    return any(match.start() == at for match in _WORDS.finditer(text, begin, at + 1))


def _found(token: str, words: frozenset) -> bool:
    # a word in Latin letters keeps its first two letters when stemmed: most words of a
    # text are told apart without stemming them
    if token.isascii() and token[:2].lower() not in _beginnings(words):
        return False
    return normal_word(token) in words


@lru_cache(maxsize=64)
def _beginnings(words: frozenset) -> frozenset:
    return frozenset(word[:2] for word in words if word.isascii())


def _found_romanized(token: str, roman: frozenset) -> bool:
    return not roman.isdisjoint(word_roman_forms(token))


def _found_loosely(token: str, wanted: tuple[frozenset, frozenset]) -> bool:
    """Whether a word of a text is one of the query's romanized forms or stem keys."""
    roman, stems = wanted
    return (bool(roman) and _found_romanized(token, roman)) or (
        bool(stems) and not stems.isdisjoint(stem_keys(_lower(token)))
    )


def _lower(token: str) -> str:
    token = token.lower()
    return token if token.isascii() else unicodedata.normalize("NFC", token)


@lru_cache(maxsize=64)
def _loose_candidates(roman: frozenset, stems: frozenset) -> re.Pattern:
    """The words of a text `_found_loosely` may accept: by first letter when every word
    sought is in Latin letters (`_roman_candidates`), else all."""
    if all(key.isascii() for key in stems):
        return _roman_candidates(roman | stems)
    return _WORDS


def _word_start(text: str, at: int) -> int:
    """``at`` moved back to the start of the word it falls in."""
    while 0 < at < len(text) and not text[at - 1].isspace():
        at -= 1
    return at


def _word_end(text: str, at: int) -> int:
    """``at`` moved forward to the end of the word it falls in (at most 20 more)."""
    limit = min(len(text), at + 20)
    while at < limit and not text[at].isspace():
        at += 1
    return min(at, len(text))
